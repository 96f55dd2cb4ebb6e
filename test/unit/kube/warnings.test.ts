import { parseWarningHeaders, WarningCollector } from '../../../src/kube/warnings';

describe('parseWarningHeaders (apimachinery ParseWarningHeaders)', () => {
  it.each([
    ['one value', ['299 - "would violate PodSecurity \\"restricted:latest\\""'], [{ code: 299, agent: '-', text: 'would violate PodSecurity "restricted:latest"' }]],
    ['two in one header, with a date', ['299 - "a, b", 199 agent "c" "Tue, 15 Nov 1994 08:12:31 GMT"'], [{ code: 299, agent: '-', text: 'a, b' }, { code: 199, agent: 'agent', text: 'c' }]],
    ['several headers', ['299 - "a"', '299 - "b"'], [{ code: 299, agent: '-', text: 'a' }, { code: 299, agent: '-', text: 'b' }]],
    ['malformed: kept up to where it breaks', ['299 - "a", 29 - "b"', 'nonsense', '299 - "unclosed'], [{ code: 299, agent: '-', text: 'a' }]],
  ])('%s', (_name, values, expected) => {
    expect(parseWarningHeaders(values)).toEqual(expected);
  });
});

describe('WarningCollector (kubectl: WarningWriter with Deduplicate)', () => {
  it('prints code 299 only, each message once, and counts what it printed', () => {
    const lines: string[] = [];
    const c = new WarningCollector((label, message) => lines.push(`${label} ${message}`));
    c.handle(['299 - "deprecated field"', '199 - "not for users"']);
    c.handle(['299 - "deprecated field"', '299 - ""']);
    c.handle(undefined);
    c.handle(['299 - "second"']);
    expect([lines, c.count]).toEqual([['Warning: deprecated field', 'Warning: second'], 2]);
  });

  it('the --warnings-as-errors line counts like kubectl ("1 warning", "2 warnings")', () => {
    const c = new WarningCollector(() => undefined);
    c.handle(['299 - "a"']);
    const one = c.asErrorsMessage();
    c.handle(['299 - "b"']);
    expect([one, c.asErrorsMessage()]).toEqual([
      '1 warning received (--warnings-as-errors); the command itself ran: see the warnings above',
      '2 warnings received (--warnings-as-errors); the command itself ran: see the warnings above',
    ]);
  });
});
