/**
 * The argument that runs this program as the credential relay's exec plugin (credential-relay.ts):
 * `kubectl-ephemeral --credential-from SOCKET`. Apart so that the entry can recognise it without
 * loading the relay (and node:net) for every other command.
 */
export const CREDENTIAL_FROM_FLAG = '--credential-from';
