// A piped kubectl's stderr: the container's bytes pass at once, kubectl's closing failure is held
// and handed to the caller (kubectl attach exits 0 however the container ended).
import { StderrTail } from '../../../src/terminal/attach/kubectl-output';

describe('StderrTail', () => {
  const run = (chunks: string[], exitCode: number) => {
    const tail = new StderrTail();
    const shown = chunks.map((c) => tail.push(Buffer.from(c)).toString()).join('');
    const end = tail.end(exitCode);
    return { shown: shown + end.pass.toString(), kubectlError: end.kubectlError };
  };

  it.each<[string, string[], number, string, string | undefined]>([
    ['the container\'s stderr passes as it comes', ['warn: a\n', 'b'], 0, 'warn: a\nb', undefined],
    ['kubectl\'s failure after the container\'s lines: held, then its message', ['err-4\n', 'error: unable to upgrade connection: container x not found in pod p_ns\n'], 1, 'err-4\n', 'error: unable to upgrade connection: container x not found in pod p_ns'],
    ['klog lines before it go too', ['E1206 13:07:21.425468   15428 v3.go:79] "Unhandled Error"\nerror: Internal error occurred\n'], 1, '', 'error: Internal error occurred'],
    ['a container line that starts with "error: ", more after it: passes', ['error: bad input\n', 'more\n'], 0, 'error: bad input\nmore\n', undefined],
    ['a container line that starts with "error: " at its end, kubectl exits 0: passes', ['error: bad input\n'], 0, 'error: bad input\n', undefined],
    ['in one chunk with the container\'s output before it', ['out\nerror: x\n'], 1, 'out\n', 'error: x'],
  ])('%s', (_what, chunks, code, shown, kubectlError) => {
    expect(run(chunks, code)).toEqual({ shown, kubectlError });
  });
});
