// The local cluster's DNS server: CoreDNS from its Go module with only the plugins the cluster's
// Corefile uses (scripts/cluster.sh writes it), in CoreDNS's own order. Upstream's main package
// compiles every plugin, cloud DNS providers included: several minutes more of build for nothing
// the cluster runs. scripts/build-cluster-bins.sh builds this file at the pinned COREDNS_VERSION.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

// The plugins imported above; dnsserver.Directives keeps upstream's order, which decides the
// order a query passes through them.
var plugins = map[string]bool{"bind": true, "cache": true, "errors": true, "forward": true, "kubernetes": true, "log": true, "ready": true}

func init() {
	var kept []string
	for _, name := range dnsserver.Directives {
		if plugins[name] {
			kept = append(kept, name)
		}
	}
	dnsserver.Directives = kept
}

func main() {
	coremain.Run()
}
