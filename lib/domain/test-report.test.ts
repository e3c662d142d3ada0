import { describe, expect, it } from 'vitest';
import { DomainError } from './errors';
import { MAX_LISTED_FAILURES, parseJUnitXml, reportPassed, reportSummaryLine, summariseJsonReport } from './test-report';

// Shapes as real runners write them (trimmed): Maven Surefire, pytest, jest-junit, gotestsum.
const SUREFIRE = `<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" name="com.shop.OrderRepositoryTest" time="1.234" tests="4" errors="1" skipped="1" failures="1">
  <properties><property name="java.version" value="21"/></properties>
  <testcase name="savesOrder" classname="com.shop.OrderRepositoryTest" time="0.101"/>
  <testcase name="readsPlacedAt" classname="com.shop.OrderRepositoryTest" time="0.050">
    <failure message="expected: &lt;2026-01-01&gt; but was: &lt;null&gt;" type="org.opentest4j.AssertionFailedError"><![CDATA[org.opentest4j.AssertionFailedError: expected: <2026-01-01> but was: <null>
	at com.shop.OrderRepositoryTest.readsPlacedAt(OrderRepositoryTest.java:42)]]></failure>
  </testcase>
  <testcase name="migratesNotes" classname="com.shop.OrderRepositoryTest" time="0.002">
    <error message="column &quot;notes&quot; does not exist" type="org.postgresql.util.PSQLException">org.postgresql.util.PSQLException: ERROR: column "notes" does not exist</error>
  </testcase>
  <testcase name="legacyExport" classname="com.shop.OrderRepositoryTest" time="0"><skipped message="disabled"/></testcase>
</testsuite>`;

const PYTEST = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="1" skipped="0" tests="3" time="0.412" timestamp="2026-11-26T07:00:00" hostname="ci"><testcase classname="tests.test_orders" name="test_create" time="0.010" /><testcase classname="tests.test_orders" name="test_placed_at_default" time="0.020"><failure message="AssertionError: assert None == datetime.date(2026, 1, 1)">def test_placed_at_default():
&gt;       assert order.placed_at == date(2026, 1, 1)
E       AssertionError</failure></testcase><testcase classname="tests.test_orders" name="test_list" time="0.005" /></testsuite></testsuites>`;

// jest-junit nests nothing, but some tools (Gradle aggregations, Karma) put suites inside suites.
const NESTED = `<testsuites name="all" tests="5" failures="0">
  <testsuite name="api">
    <testsuite name="api/orders">
      <testcase classname="api/orders" name="GET /orders"/>
      <testcase classname="api/orders" name="POST /orders"/>
    </testsuite>
    <testsuite name="api/users"><testcase classname="api/users" name="GET /users"/></testsuite>
  </testsuite>
  <testsuite name="ui"><testcase classname="ui" name="renders"/><testcase classname="ui" name="flaky"><skipped/></testcase></testsuite>
</testsuites>`;

const GOTESTSUM = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="2" failures="1" errors="0" time="0.004">
	<testsuite tests="2" failures="1" time="0.003" name="example.com/shop/orders" timestamp="2026-11-26T07:00:00Z">
		<properties><property name="go.version" value="go1.23.0 linux/amd64"></property></properties>
		<testcase classname="example.com/shop/orders" name="TestMigrate" time="0.000"></testcase>
		<testcase classname="example.com/shop/orders" name="TestNotes" time="0.000">
			<failure message="Failed" type="">=== RUN   TestNotes&#xA;    orders_test.go:12: notes is empty&#xA;--- FAIL: TestNotes (0.00s)&#xA;</failure>
		</testcase>
	</testsuite>
</testsuites>`;

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('invalid');
    return (err as DomainError).message;
  }
  throw new Error('expected a refusal');
};

describe('JUnit XML reports', () => {
  it('count failures, errors and skipped apart (Maven Surefire), with names, classes and messages, entities decoded', () => {
    const r = parseJUnitXml(SUREFIRE);
    expect(r).toMatchObject({ format: 'junit', tests: 4, failures: 1, errors: 1, skipped: 1 });
    expect(r.failureList).toEqual([
      { name: 'readsPlacedAt', classname: 'com.shop.OrderRepositoryTest', message: 'expected: <2026-01-01> but was: <null>', kind: 'failure' },
      { name: 'migratesNotes', classname: 'com.shop.OrderRepositoryTest', message: 'column "notes" does not exist', kind: 'error' },
    ]);
    expect(reportPassed(r)).toBe(false);
    expect(reportSummaryLine(r)).toBe('4 tests, 1 failure, 1 error, 1 skipped');
  });

  it('read pytest and gotestsum reports under a <testsuites> root', () => {
    const py = parseJUnitXml(PYTEST);
    expect(py).toMatchObject({ tests: 3, failures: 1, errors: 0, skipped: 0 });
    expect(py.failureList[0]).toMatchObject({ name: 'test_placed_at_default', classname: 'tests.test_orders', message: 'AssertionError: assert None == datetime.date(2026, 1, 1)' });
    const go = parseJUnitXml(GOTESTSUM);
    expect(go).toMatchObject({ tests: 2, failures: 1, errors: 0 });
    expect(go.failureList[0].name).toBe('TestNotes');
  });

  it('walk suites nested in suites, and a clean report passes', () => {
    const r = parseJUnitXml(NESTED);
    expect(r).toMatchObject({ tests: 5, failures: 0, errors: 0, skipped: 1, failureList: [] });
    expect(reportPassed(r)).toBe(true);
  });

  it('take the suites\' totals when a report lists no cases, and a report with no tests does not pass', () => {
    const totals = parseJUnitXml('<testsuites><testsuite name="a" tests="7" failures="2" errors="0" skipped="1"/><testsuite name="b" tests="3" failures="0"/></testsuites>');
    expect(totals).toMatchObject({ tests: 10, failures: 2, errors: 0, skipped: 1 });
    const empty = parseJUnitXml('<testsuite name="none" tests="0"/>');
    expect(empty.tests).toBe(0);
    expect(reportPassed(empty)).toBe(false);
  });

  it('use the failure text\'s first line when there is no message attribute, and clip long messages', () => {
    const long = 'x'.repeat(5000);
    const r = parseJUnitXml(`<testsuite><testcase name="a"><failure>first line\nstack</failure></testcase><testcase name="b"><failure message="${long}"/></testcase></testsuite>`);
    expect(r.failureList[0].message).toBe('first line');
    expect(r.failureList[1].message.length).toBeLessThanOrEqual(2000);
  });

  it('list at most MAX_LISTED_FAILURES failures but count them all', () => {
    const cases = Array.from({ length: MAX_LISTED_FAILURES + 50 }, (_, i) => `<testcase name="t${i}"><failure message="no"/></testcase>`).join('');
    const r = parseJUnitXml(`<testsuite>${cases}</testsuite>`);
    expect(r.failures).toBe(MAX_LISTED_FAILURES + 50);
    expect(r.failureList).toHaveLength(MAX_LISTED_FAILURES);
  });

  it('refuse external entities (XXE) and entity bombs before parsing', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE testsuite [<!ENTITY secret SYSTEM "file:///etc/passwd">]><testsuite><testcase name="&secret;"/></testsuite>`;
    expect(refusal(() => parseJUnitXml(xxe))).toMatch(/DOCTYPE/);
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><testsuite><testcase name="&lol3;"/></testsuite>`;
    expect(refusal(() => parseJUnitXml(bomb))).toMatch(/entit/);
    // A DOCTYPE hidden after the root element is refused too; one quoted inside CDATA is only text.
    expect(refusal(() => parseJUnitXml('<testsuite><!DOCTYPE x [<!ENTITY a "b">]><testcase name="a"/></testsuite>'))).toMatch(/DOCTYPE/);
    const quoted = parseJUnitXml('<testsuite><testcase name="html"><failure><![CDATA[got <!DOCTYPE html><html>]]></failure></testcase></testsuite>');
    expect(quoted.failureList[0].message).toBe('got <!DOCTYPE html><html>');
    // A CDATA opener inside a comment does not hide the DOCTYPE that follows the comment.
    const hidden = '<!-- <![CDATA[ --><!DOCTYPE t [<!ENTITY x "injected">]><!-- ]]> --><testsuite><testcase name="&x;"><failure message="&x;"/></testcase></testsuite>';
    expect(refusal(() => parseJUnitXml(hidden))).toMatch(/DOCTYPE/);
    expect(refusal(() => parseJUnitXml('<!-- a --><![CDATA[ x ]]><!ENTITY x "y"><testsuite/>'))).toMatch(/DOCTYPE or entities/);
  });

  it('never expand entities, but read the standard XML escapes and character references', () => {
    const r = parseJUnitXml('<testsuite><testcase name="a &amp;lt; &#65;&#x42; &x; &lt;b&gt; &quot;q&quot; &apos;s&apos;"><failure>got &amp; &#x1F600;</failure></testcase><testcase name="c"><failure><![CDATA[raw &amp; <kept>]]></failure></testcase></testsuite>');
    expect(r.failureList[0].name).toBe(`a &lt; AB &x; <b> "q" 's'`);
    expect(r.failureList[0].message).toBe('got & \u{1F600}');
    expect(r.failureList[1].message).toBe('raw &amp; <kept>');
  });

  it('refuse what is not a JUnit report, with the reason', () => {
    expect(refusal(() => parseJUnitXml(''))).toMatch(/empty/);
    expect(refusal(() => parseJUnitXml('<testsuite><testcase name="a"></testsuite>'))).toMatch(/not well-formed XML.*line 1/);
    expect(refusal(() => parseJUnitXml('<html><body>502 Bad Gateway</body></html>'))).toMatch(/root element is <html>/);
    const deep = `${'<testsuite>'.repeat(300)}${'</testsuite>'.repeat(300)}`;
    expect(refusal(() => parseJUnitXml(deep))).toMatch(/nest|deep|could not be read/i);
  });
});

describe('JSON summaries', () => {
  it('keep the counts and list failed and erred cases', () => {
    const r = summariseJsonReport({
      tests: 12, failures: 1, errors: 1, skipped: 2,
      cases: [
        { name: 'creates order', status: 'passed' },
        { name: 'reads notes', classname: 'orders.spec.ts', status: 'failed', message: 'expected "a" got null' },
        { name: 'boots', status: 'error', message: null },
      ],
    });
    expect(r).toMatchObject({ format: 'json', tests: 12, failures: 1, errors: 1, skipped: 2 });
    expect(r.failureList).toEqual([
      { name: 'reads notes', classname: 'orders.spec.ts', message: 'expected "a" got null', kind: 'failure' },
      { name: 'boots', classname: null, message: '(no message)', kind: 'error' },
    ]);
    expect(reportPassed(summariseJsonReport({ tests: 3, failures: 0 }))).toBe(true);
  });

  it('refuse summaries that contradict themselves', () => {
    expect(refusal(() => summariseJsonReport({ tests: 2, failures: 3 }))).toMatch(/more than it ran/);
    expect(refusal(() => summariseJsonReport({ tests: 2, failures: 0, cases: [{ name: 'a', status: 'failed' }] }))).toMatch(/cases list 1 failed/);
  });
});
