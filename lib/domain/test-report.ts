import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { z } from 'zod';
import { DomainError } from './errors';

/**
 * Test reports for "Test app with new schema" (step 5): JUnit XML as most runners write it
 * (Maven Surefire, Gradle, pytest, jest-junit, Go's gotestsum; a <testsuites> root or one
 * <testsuite>, suites nested in suites) or a JSON summary. Both become one summary; the report
 * passes when it ran at least one test and none failed or erred.
 */

export type TestReportFormat = 'junit' | 'json';

export type ReportedFailure = {
  name: string;
  classname: string | null;
  message: string;
  /** An assertion that failed, or an error the test did not expect (JUnit tells them apart). */
  kind: 'failure' | 'error';
};

export interface TestReportSummary {
  format: TestReportFormat;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  /** Failures and errors with names and messages, at most MAX_LISTED_FAILURES (the counts are whole). */
  failureList: ReportedFailure[];
}

/** A JSON summary as CI sends it (lib/validation/test-report.ts parses it). */
export interface JsonTestSummary {
  tests: number;
  failures: number;
  errors?: number;
  skipped?: number;
  cases?: { name: string; classname?: string | null; status: 'passed' | 'failed' | 'error' | 'skipped'; message?: string | null }[];
}

export const MAX_LISTED_FAILURES = 200;
export const MAX_MESSAGE_CHARS = 2000;
/** Suites inside suites, at most (real reports nest two or three deep). */
export const MAX_NESTING = 64;

export const reportPassed = (s: Pick<TestReportSummary, 'tests' | 'failures' | 'errors'>) => s.tests > 0 && s.failures === 0 && s.errors === 0;

export function reportSummaryLine(s: Pick<TestReportSummary, 'tests' | 'failures' | 'errors' | 'skipped'>): string {
  const n = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  return `${n(s.tests, 'test')}, ${n(s.failures, 'failure')}, ${n(s.errors, 'error')}, ${s.skipped} skipped`;
}

/** The `test_report` evidence record's detail (lib/domain/evidence-schemas.ts). */
export const TestReportEvidenceSchema = z.looseObject({
  format: z.enum(['junit', 'json']),
  tests: z.number().int().min(0),
  failures: z.number().int().min(0),
  errors: z.number().int().min(0),
  skipped: z.number().int().min(0),
  failureList: z.array(z.looseObject({ name: z.string(), classname: z.string().nullable(), message: z.string(), kind: z.enum(['failure', 'error']).optional() })),
  /** The migration revision (its number) the report is for. */
  revision: z.number().int().min(1),
  /** The report as received, in the artifact store. */
  artifactId: z.string().optional(),
  fileName: z.string().nullable().optional(),
});
export type TestReportEvidenceDetail = z.infer<typeof TestReportEvidenceSchema>;

const clip = (text: string) => (text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text);
const invalid = (message: string) => new DomainError('invalid', message, 'report');

// ---- JUnit XML

/**
 * A DTD is where entity bombs (billion laughs) and external entities (XXE) live; JUnit never
 * needs one, so any declaration (<!DOCTYPE, <!ENTITY, ...) outside CDATA and comments refuses the
 * report before a parser sees it. One pass in document order, as a parser reads it: a comment
 * ends at the first -->, a CDATA section at the first ]]>, whatever either seems to contain
 * (stripping one kind and then the other let `<!-- <![CDATA[ --><!DOCTYPE ...><!-- ]]> -->` through).
 * The parser does not expand entities either (processEntities: false): this is the first wall.
 */
function assertNoDeclarations(xml: string): void {
  let at = xml.indexOf('<!');
  while (at !== -1) {
    let end: number;
    if (xml.startsWith('<!--', at)) end = xml.indexOf('-->', at + 4);
    else if (xml.startsWith('<![CDATA[', at)) end = xml.indexOf(']]>', at + 9);
    else {
      throw invalid('The report declares a DOCTYPE or entities; JUnit reports never need them, and Cutover does not read them (XML entity expansion is refused). Remove the <!DOCTYPE ...> part.');
    }
    // An unclosed comment or CDATA section: the XML validator refuses it next.
    if (end === -1) return;
    at = xml.indexOf('<!', end);
  }
}

const XML_ESCAPES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * The five predefined XML escapes and numeric character references, decoded in one pass (so
 * `&amp;lt;` reads `&lt;`). Anything else (`&name;` of a DTD) stays as written: nothing expands.
 */
export function decodeXmlText(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});/g, (whole, ref: string) => {
    if (ref[0] !== '#') return XML_ESCAPES[ref];
    const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
    const allowed = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0x10ffff && code !== 0xfffe && code !== 0xffff);
    return allowed ? String.fromCodePoint(code) : whole;
  });
}

type XmlNode = Record<string, unknown>;
const ARRAY_TAGS = new Set(['testsuite', 'testcase', 'failure', 'error', 'skipped']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '@',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  htmlEntities: false,
  // No entity is ever expanded by the parser; decodeXmlText reads the standard escapes.
  processEntities: false,
  // CDATA kept apart from text: its content is literal, never decoded.
  cdataPropName: '#cdata',
  maxNestedTags: MAX_NESTING * 2 + 8,
  isArray: (name) => ARRAY_TAGS.has(name),
});

const asNode = (value: unknown): XmlNode => (value !== null && typeof value === 'object' ? (value as XmlNode) : { '#text': typeof value === 'string' ? value : '' });
function attrs(node: XmlNode): Record<string, string | undefined> {
  const raw = (node['@'] ?? {}) as Record<string, string | undefined>;
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === 'string' ? decodeXmlText(v) : v]));
}
const list = (value: unknown): XmlNode[] => (Array.isArray(value) ? value.map(asNode) : value === undefined ? [] : [asNode(value)]);
const count = (value: string | undefined) => {
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
};

function textOf(node: XmlNode): string {
  const text = node['#text'];
  const cdata = node['#cdata'];
  const sections = Array.isArray(cdata) ? cdata.filter((c): c is string => typeof c === 'string') : typeof cdata === 'string' ? [cdata] : [];
  return (typeof text === 'string' ? decodeXmlText(text) : '') + sections.join('');
}

/** A failure's message: its `message` attribute, else the first line of its text (the stack trace follows). */
function messageOf(node: XmlNode): string {
  const a = attrs(node);
  const fromAttr = (a.message ?? '').trim();
  const text = textOf(node).trim();
  const message = fromAttr || text.split('\n')[0]?.trim() || a.type || '(no message)';
  return clip(message);
}

interface Tally {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  failureList: ReportedFailure[];
  hasCases: boolean;
}

function walkSuite(suite: XmlNode, depth: number, tally: Tally): void {
  if (depth > MAX_NESTING) throw invalid(`The report nests test suites more than ${MAX_NESTING} deep.`);
  for (const testcase of list(suite.testcase)) {
    tally.hasCases = true;
    tally.tests += 1;
    const a = attrs(testcase);
    const failed = list(testcase.failure);
    const erred = list(testcase.error);
    // A case counts once: an error wins over a failure (both is rare and means it broke).
    if (erred.length > 0) tally.errors += 1;
    else if (failed.length > 0) tally.failures += 1;
    else if (testcase.skipped !== undefined) tally.skipped += 1;
    const first = erred[0] ?? failed[0];
    if (first && tally.failureList.length < MAX_LISTED_FAILURES) {
      tally.failureList.push({ name: clip(a.name ?? '(unnamed test)'), classname: a.classname ? clip(a.classname) : null, message: messageOf(first), kind: erred.length > 0 ? 'error' : 'failure' });
    }
  }
  for (const child of list(suite.testsuite)) walkSuite(child, depth + 1, tally);
}

/** Totals from suite attributes, for reports that list no test cases (some runners write only totals). */
function attributeTotals(suites: XmlNode[]): Pick<Tally, 'tests' | 'failures' | 'errors' | 'skipped'> {
  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const s of suites) {
    const a = attrs(s);
    totals.tests += count(a.tests);
    totals.failures += count(a.failures);
    totals.errors += count(a.errors);
    totals.skipped += count(a.skipped ?? a.disabled);
  }
  return totals;
}

export function parseJUnitXml(xml: string): TestReportSummary {
  const text = xml.replace(/^\uFEFF/, '');
  if (text.trim() === '') throw invalid('The report is empty.');
  assertNoDeclarations(text);
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw invalid(`The report is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col}).`);
  let doc: XmlNode;
  try {
    doc = asNode(parser.parse(text));
  } catch (err) {
    throw invalid(`The report could not be read as XML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const root = doc.testsuites !== undefined ? asNode(doc.testsuites) : doc.testsuite !== undefined ? { testsuite: doc.testsuite } : null;
  if (!root) {
    const found = Object.keys(doc).filter((k) => !k.startsWith('?'))[0];
    throw invalid(`This is not a JUnit report: its root element is <${found ?? '?'}>, and JUnit reports start with <testsuites> or <testsuite>.`);
  }
  const tally: Tally = { tests: 0, failures: 0, errors: 0, skipped: 0, failureList: [], hasCases: false };
  walkSuite(root, 0, tally);
  const totals = tally.hasCases ? tally : { ...tally, ...attributeTotals(list(root.testsuite).length ? list(root.testsuite) : [root]) };
  return { format: 'junit', tests: totals.tests, failures: totals.failures, errors: totals.errors, skipped: totals.skipped, failureList: tally.failureList };
}

// ---- JSON summary

export function summariseJsonReport(input: JsonTestSummary): TestReportSummary {
  const errors = input.errors ?? 0;
  const skipped = input.skipped ?? 0;
  if (input.failures + errors + skipped > input.tests) {
    throw invalid(`The summary counts ${input.failures} failures, ${errors} errors and ${skipped} skipped out of ${input.tests} tests: more than it ran.`);
  }
  const cases = input.cases ?? [];
  const failedCases = cases.filter((c) => c.status === 'failed').length;
  const erredCases = cases.filter((c) => c.status === 'error').length;
  if (failedCases > input.failures || erredCases > errors) {
    throw invalid(`The summary says ${input.failures} failures and ${errors} errors, but its cases list ${failedCases} failed and ${erredCases} with errors.`);
  }
  const failureList = cases
    .filter((c) => c.status === 'failed' || c.status === 'error')
    .slice(0, MAX_LISTED_FAILURES)
    .map((c): ReportedFailure => ({ name: clip(c.name), classname: c.classname ? clip(c.classname) : null, message: clip(c.message?.trim() || '(no message)'), kind: c.status === 'error' ? 'error' : 'failure' }));
  return { format: 'json', tests: input.tests, failures: input.failures, errors, skipped, failureList };
}
