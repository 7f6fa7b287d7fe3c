// The strict HTTP/1.1 request parser (lib/http/parser.ts, RFC 9112): a corpus of valid and
// invalid requests as tables. Every invalid case names the status and the code it must get;
// the smuggling cases (CL.TE, TE.CL, Transfer-Encoding obfuscations, duplicate and listed
// Content-Lengths) come from RFC 9112 §6.3 and the classes llhttp's tests cover.
import { describe, expect, it } from 'vitest';
import {
  HttpParseError, parseChunkSize, parseRequestHead, parseTrailers, requestBodyFraming,
  type BodyFraming, type HeadLimits, type RequestHead,
} from '../lib/http/parser';

const LIMITS: HeadLimits = { maxHeaderBytes: 16 * 1024, maxHeaders: 100 };
/** Raw bytes: every char of `s` is one byte (latin1), so '\x00' and '\xff' are sent as such. */
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const parse = (s: string, limits: HeadLimits = LIMITS): RequestHead => parseRequestHead(bytes(s), limits);
/** A request line plus field lines, CRLF-terminated, with the closing empty line. */
const head = (line: string, ...fields: string[]): string => `${line}\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`;
const get11 = (...fields: string[]): string => head('GET / HTTP/1.1', 'Host: example.com', ...fields);
const post11 = (...fields: string[]): string => head('POST /upload HTTP/1.1', 'Host: example.com', ...fields);

function rejection(fn: () => unknown): { status: number; code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof HttpParseError)) throw e;
    return { status: e.status, code: e.code, message: e.message };
  }
  throw new Error('expected an HttpParseError, but it parsed');
}

type Bad = [name: string, input: string, status: number, code: string, message?: RegExp];

describe('parseRequestHead: valid requests', () => {
  const cases: Array<[name: string, input: string, expected: Partial<RequestHead>]> = [
    ['a minimal GET', get11(), { method: 'GET', target: '/', version: '1.1', headers: [['host', 'example.com']] }],
    ['HTTP/1.0 without Host', head('GET /a HTTP/1.0'), { method: 'GET', target: '/a', version: '1.0', headers: [] }],
    ['HTTP/1.0 with Host', head('HEAD / HTTP/1.0', 'Host: x'), { method: 'HEAD', version: '1.0', headers: [['host', 'x']] }],
    ['names lower-cased, values kept', get11('Content-Type: Text/HTML', 'X-MiXeD: AbC'),
      { headers: [['host', 'example.com'], ['content-type', 'Text/HTML'], ['x-mixed', 'AbC']] }],
    ['optional whitespace around the value trimmed, inner whitespace kept', get11('X-A:   a  b \t c \t  '),
      { headers: [['host', 'example.com'], ['x-a', 'a  b \t c']] }],
    ['no whitespace after the colon', get11('X-A:b'), { headers: [['host', 'example.com'], ['x-a', 'b']] }],
    ['an empty value', get11('X-Empty:', 'X-Blank:  \t '),
      { headers: [['host', 'example.com'], ['x-empty', ''], ['x-blank', '']] }],
    ['repeated fields kept, in order', get11('Cookie: a=1', 'Accept: */*', 'Cookie: b=2'),
      { headers: [['host', 'example.com'], ['cookie', 'a=1'], ['accept', '*/*'], ['cookie', 'b=2']] }],
    ['every tchar in a field name', get11("X_!#$%&'*+.^`|~9: v"), { headers: [['host', 'example.com'], ["x_!#$%&'*+.^`|~9", 'v']] }],
    ['obs-text in a value, decoded as latin1', get11('X-Name: caf\xe9 \xff'),
      { headers: [['host', 'example.com'], ['x-name', 'caf\u00e9 \u00ff']] }],
    ['a custom method', head('PURGE /cache HTTP/1.1', 'Host: h'), { method: 'PURGE' }],
    ['a method with tchars', head('M-SEARCH /upnp HTTP/1.1', 'Host: h'), { method: 'M-SEARCH', target: '/upnp' }],
    ['a lower-case method kept as sent (methods are case-sensitive)', head('get / HTTP/1.1', 'Host: h'), { method: 'get' }],
    ['OPTIONS * (asterisk-form)', head('OPTIONS * HTTP/1.1', 'Host: h'), { method: 'OPTIONS', target: '*' }],
    ['absolute-form', head('GET http://example.com:8080/a/b?c=d HTTP/1.1', 'Host: example.com:8080'),
      { target: 'http://example.com:8080/a/b?c=d' }],
    ['CONNECT authority-form', head('CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443'),
      { method: 'CONNECT', target: 'example.com:443' }],
    ['CONNECT to an IPv6 literal', head('CONNECT [::1]:443 HTTP/1.1', 'Host: [::1]:443'), { target: '[::1]:443' }],
    ['query with sub-delims and pct-encoding', head("GET /caf%C3%A9?a=1&b=$(x)*,;:@!'~ HTTP/1.1", 'Host: h'),
      { target: "/caf%C3%A9?a=1&b=$(x)*,;:@!'~" }],
    ['an empty line before the request line (RFC 9112 §2.2)', `\r\n\r\n${get11()}`, { method: 'GET', target: '/' }],
    ['an IPv6 Host with a port', head('GET / HTTP/1.1', 'Host: [::1]:8080'), { headers: [['host', '[::1]:8080']] }],
    ['an empty Host (allowed when the target has no authority)', head('GET / HTTP/1.1', 'Host:'), { headers: [['host', '']] }],
    ['a Host in any case', head('GET / HTTP/1.1', 'HOST: h'), { headers: [['host', 'h']] }],
    ['a typical browser request', head('GET /index.html HTTP/1.1', 'Host: localhost:8080',
      'User-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0', 'Accept: text/html,*/*;q=0.8',
      'Accept-Language: en-US,en;q=0.5', 'Accept-Encoding: gzip, deflate, br', 'Connection: keep-alive',
      'Cookie: a=b; c="d e"', 'Upgrade-Insecure-Requests: 1'), { method: 'GET', version: '1.1' }],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(parse(input)).toMatchObject(expected);
  });

  it('accepts a head of exactly maxHeaderBytes and exactly maxHeaders fields', () => {
    const s = get11('A: 1', 'B: 2');
    expect(parse(s, { maxHeaderBytes: s.length, maxHeaders: 3 }).headers).toHaveLength(3);
  });

  it('works on a Buffer that is a slice of a larger one', () => {
    const buf = bytes(`xxxx${get11('Content-Length: 0')}yyyy`).subarray(4, -4);
    const h = parseRequestHead(buf, LIMITS);
    expect(h.headers).toEqual([['host', 'example.com'], ['content-length', '0']]);
  });
});

describe('parseRequestHead: the request line', () => {
  const cases: Bad[] = [
    ['an empty head', '\r\n\r\n', 400, 'ERR_HTTP_BAD_REQUEST_LINE', /empty request line/],
    ['a leading space', ` ${get11()}`, 400, 'ERR_HTTP_BAD_REQUEST_LINE', /starts with a space/],
    ['an invalid character in the method', head('G@T / HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_BAD_REQUEST_LINE', /'@'.*method/],
    ['a NUL in the method', head('GE\x00T / HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_BAD_REQUEST_LINE', /0x00/],
    ['a tab instead of the space', head('GET\t/ HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_BAD_REQUEST_LINE'],
    ['two spaces after the method', head('GET  / HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_BAD_REQUEST_LINE', /more than one space/],
    ['two spaces before the version', head('GET /  HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_BAD_REQUEST_LINE', /more than one space/],
    ['a space after the version', head('GET / HTTP/1.1 ', 'Host: h'), 400, 'ERR_HTTP_BAD_REQUEST_LINE', /after the HTTP version/],
    ['a method only', head('GET', 'Host: h'), 400, 'ERR_HTTP_BAD_REQUEST_LINE', /method only/],
    ['no version (HTTP/0.9)', head('GET /', 'Host: h'), 400, 'ERR_HTTP_BAD_REQUEST_LINE', /HTTP version/],
    ['a lower-case version', head('GET / http/1.1', 'Host: h'), 400, 'ERR_HTTP_BAD_REQUEST_LINE', /malformed HTTP version/],
    ['a version without a dot', head('GET / HTTP/11', 'Host: h'), 400, 'ERR_HTTP_BAD_REQUEST_LINE'],
    ['a three-part version', head('GET / HTTP/1.1.1', 'Host: h'), 400, 'ERR_HTTP_BAD_REQUEST_LINE'],
    ['a two-digit major version', head('GET / HTTP/10.1', 'Host: h'), 400, 'ERR_HTTP_BAD_REQUEST_LINE'],
    ['a space inside the target', head('GET /a b HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_BAD_REQUEST_LINE'],
    ['HTTP/2.0', head('GET / HTTP/2.0', 'Host: h'), 505, 'ERR_HTTP_VERSION_NOT_SUPPORTED', /HTTP\/2\.0/],
    ['HTTP/1.2', head('GET / HTTP/1.2', 'Host: h'), 505, 'ERR_HTTP_VERSION_NOT_SUPPORTED'],
    ['HTTP/0.9 written out', head('GET / HTTP/0.9', 'Host: h'), 505, 'ERR_HTTP_VERSION_NOT_SUPPORTED'],
    ['a bare LF ending the request line', 'GET / HTTP/1.1\nHost: h\r\n\r\n', 400, 'ERR_HTTP_BAD_LINE_ENDING', /bare LF/],
    ['a bare CR ending the request line', 'GET / HTTP/1.1\rHost: h\r\n\r\n', 400, 'ERR_HTTP_BAD_LINE_ENDING', /bare CR/],
    ['a NUL in the target', head('GET /a\x00b HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET', /0x00.*request-target/],
    ['a DEL in the target', head('GET /a\x7f HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET'],
    ['a raw non-ASCII byte in the target', head('GET /caf\xe9 HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET'],
    ['a tab in the target', head('GET /a\tb HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET'],
    ['a bare CR in the target', head('GET /a\rb HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_BAD_LINE_ENDING', /bare CR/],
    ['a bare LF after the method', 'GET\n/ HTTP/1.1\r\nHost: h\r\n\r\n', 400, 'ERR_HTTP_BAD_LINE_ENDING', /bare LF/],
    ['"<" in the target', head('GET /<script> HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET', /'<'/],
    ['a double quote in the target', head('GET /"x" HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET'],
    ['a backslash in the target', head('GET /a\\b HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET'],
    ['"{|}" in the target', head('GET /a?b={|} HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET'],
    ['a fragment in the target', head('GET /a#frag HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET', /'#'/],
    ['asterisk-form with GET', head('GET * HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET', /only for OPTIONS/],
    ['asterisk-form with another method (SSDP\'s M-SEARCH *)', head('M-SEARCH * HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET'],
    ['"*" followed by more', head('OPTIONS *a HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET'],
    ['a relative target', head('GET index.html HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET', /not origin-form/],
    ['a target that is a bare scheme', head('GET http: HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET'],
    ['CONNECT with origin-form', head('CONNECT / HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET', /authority-form/],
    ['CONNECT without a port', head('CONNECT example.com HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET'],
    ['CONNECT with a non-numeric port', head('CONNECT example.com:https HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET'],
    ['CONNECT with userinfo', head('CONNECT user@example.com:443 HTTP/1.1', 'Host: h'), 400, 'ERR_HTTP_INVALID_TARGET'],
  ];
  it.each(cases)('rejects %s', (_name, input, status, code, message) => {
    const r = rejection(() => parse(input));
    expect([r.status, r.code]).toEqual([status, code]);
    if (message) expect(r.message).toMatch(message);
  });
});

describe('parseRequestHead: field lines, line endings and limits', () => {
  const cases: Bad[] = [
    ['whitespace before the colon', get11('X-A : b'), 400, 'ERR_HTTP_INVALID_HEADER', /whitespace between .* colon/],
    ['"Transfer-Encoding : chunked" (space before the colon)', post11('Transfer-Encoding : chunked'), 400, 'ERR_HTTP_INVALID_HEADER'],
    ['a tab before the colon', head('GET / HTTP/1.1', 'Host\t: h'), 400, 'ERR_HTTP_INVALID_HEADER'],
    ['a space inside the name', get11('X A: b'), 400, 'ERR_HTTP_INVALID_HEADER'],
    ['obs-fold (a continuation line with a space)', get11('X-A: b', ' c'), 400, 'ERR_HTTP_OBS_FOLD', /obs-fold/],
    ['obs-fold with a tab', get11('X-A: b', '\tc'), 400, 'ERR_HTTP_OBS_FOLD'],
    ['obs-fold hiding Transfer-Encoding', post11('X-A: b', ' Transfer-Encoding: chunked'), 400, 'ERR_HTTP_OBS_FOLD'],
    ['whitespace before the first field line', head('GET / HTTP/1.1', ' Host: h'), 400, 'ERR_HTTP_INVALID_HEADER', /first field line/],
    ['a field line without a colon', get11('X-A b'), 400, 'ERR_HTTP_INVALID_HEADER'],
    ['a field line that is only a name', get11('X-A'), 400, 'ERR_HTTP_INVALID_HEADER', /without a colon/],
    ['an empty field name', get11(': b'), 400, 'ERR_HTTP_INVALID_HEADER', /empty header field name/],
    ['a separator in the name', get11('X(A): b'), 400, 'ERR_HTTP_INVALID_HEADER', /'\('/],
    ['a NUL in the name', get11('X\x00A: b'), 400, 'ERR_HTTP_INVALID_HEADER', /0x00/],
    ['a non-ASCII byte in the name', get11('X-\xe9: b'), 400, 'ERR_HTTP_INVALID_HEADER'],
    ['a NUL in the value', get11('X-A: b\x00c'), 400, 'ERR_HTTP_INVALID_HEADER', /0x00 .* value .* 'x-a'/],
    ['a control character in the value', get11('X-A: b\x01'), 400, 'ERR_HTTP_INVALID_HEADER'],
    ['a vertical tab in the value', post11('Transfer-Encoding: chunked\x0b'), 400, 'ERR_HTTP_INVALID_HEADER'],
    ['a form feed in the value', get11('X-A: \x0cb'), 400, 'ERR_HTTP_INVALID_HEADER'],
    ['a DEL in the value', get11('X-A: b\x7f'), 400, 'ERR_HTTP_INVALID_HEADER'],
    ['a bare CR inside a value', get11('X-A: b\rc'), 400, 'ERR_HTTP_BAD_LINE_ENDING', /bare CR/],
    ['a bare LF inside a value (a hidden field)', get11('X-A: b\nTransfer-Encoding: chunked'), 400, 'ERR_HTTP_BAD_LINE_ENDING', /bare LF/],
    ['a field line ended by a bare LF', 'GET / HTTP/1.1\r\nHost: h\nX-A: b\r\n\r\n', 400, 'ERR_HTTP_BAD_LINE_ENDING'],
    ['a field line ended by CR CR LF', 'GET / HTTP/1.1\r\nHost: h\r\r\n\r\n', 400, 'ERR_HTTP_BAD_LINE_ENDING'],
    ['a bare CR starting a line', 'GET / HTTP/1.1\r\nHost: h\r\n\rX: b\r\n\r\n', 400, 'ERR_HTTP_BAD_LINE_ENDING'],
    ['a bare LF as a line', 'GET / HTTP/1.1\r\nHost: h\r\n\nX: b\r\n\r\n', 400, 'ERR_HTTP_BAD_LINE_ENDING'],
    ['LF-only line endings throughout', 'GET / HTTP/1.1\nHost: h\n\n', 400, 'ERR_HTTP_MALFORMED_HEAD', /CRLF CRLF/],
    ['a head without its empty line', 'GET / HTTP/1.1\r\nHost: h\r\n', 400, 'ERR_HTTP_MALFORMED_HEAD'],
    ['bytes after the end of the head (two heads in one)', get11() + get11(), 400, 'ERR_HTTP_MALFORMED_HEAD', /after the end/],
    ['HTTP/1.1 without Host', head('GET / HTTP/1.1', 'Accept: */*'), 400, 'ERR_HTTP_MISSING_HOST'],
    ['two Host fields', head('GET / HTTP/1.1', 'Host: a', 'Host: b'), 400, 'ERR_HTTP_DUPLICATE_HOST'],
    ['two Host fields in HTTP/1.0', head('GET / HTTP/1.0', 'Host: a', 'host: a'), 400, 'ERR_HTTP_DUPLICATE_HOST'],
    ['a Host with a space', head('GET / HTTP/1.1', 'Host: a b'), 400, 'ERR_HTTP_INVALID_HOST'],
    ['a Host with a path', head('GET / HTTP/1.1', 'Host: a/b'), 400, 'ERR_HTTP_INVALID_HOST'],
    ['a Host with userinfo', head('GET / HTTP/1.1', 'Host: user@a'), 400, 'ERR_HTTP_INVALID_HOST'],
    ['a head over maxHeaderBytes (one long value)', get11(`X-Big: ${'a'.repeat(17_000)}`), 431, 'ERR_HTTP_HEADER_TOO_LARGE', /over the limit of 16384/],
    ['a very long request line', head(`GET /${'a'.repeat(20_000)} HTTP/1.1`, 'Host: h'), 431, 'ERR_HTTP_HEADER_TOO_LARGE'],
    ['many small fields over maxHeaderBytes', get11(...Array.from({ length: 2000 }, (_, k) => `X-${k}: v`)), 431, 'ERR_HTTP_HEADER_TOO_LARGE'],
    ['more than maxHeaders fields', get11(...Array.from({ length: 100 }, (_, k) => `X-${k}: v`)), 431, 'ERR_HTTP_TOO_MANY_HEADERS', /more than 100/],
  ];
  it.each(cases)('rejects %s', (_name, input, status, code, message) => {
    const r = rejection(() => parse(input));
    expect([r.status, r.code]).toEqual([status, code]);
    if (message) expect(r.message).toMatch(message);
  });

  it('applies the limits it is given', () => {
    const s = get11('A: 1', 'B: 2');
    expect(rejection(() => parse(s, { maxHeaderBytes: s.length - 1, maxHeaders: 100 })).status).toBe(431);
    expect(rejection(() => parse(s, { maxHeaderBytes: 16384, maxHeaders: 2 })).code).toBe('ERR_HTTP_TOO_MANY_HEADERS');
  });
});

describe('requestBodyFraming', () => {
  const framing = (s: string): BodyFraming => requestBodyFraming(parse(s));
  const valid: Array<[name: string, input: string, expected: BodyFraming]> = [
    ['no body fields', get11(), { kind: 'none' }],
    ['Content-Length: 0', post11('Content-Length: 0'), { kind: 'length', length: 0 }],
    ['Content-Length: 42', post11('Content-Length: 42'), { kind: 'length', length: 42 }],
    ['leading zeros', post11('Content-Length: 007'), { kind: 'length', length: 7 }],
    ['the largest accepted length (15 digits)', post11('Content-Length: 999999999999999'), { kind: 'length', length: 999_999_999_999_999 }],
    ['a list of identical values', post11('Content-Length: 42, 42'), { kind: 'length', length: 42 }],
    ['two identical Content-Length fields', post11('Content-Length: 42', 'content-length: 42'), { kind: 'length', length: 42 }],
    ['Content-Length in HTTP/1.0', head('POST / HTTP/1.0', 'Content-Length: 3'), { kind: 'length', length: 3 }],
    ['Transfer-Encoding: chunked', post11('Transfer-Encoding: chunked'), { kind: 'chunked' }],
    ['chunked in capitals', post11('Transfer-Encoding: CHUNKED'), { kind: 'chunked' }],
    ['Chunked, mixed case', post11('transfer-encoding: Chunked'), { kind: 'chunked' }],
    ['" chunked " (optional whitespace is not part of the value)', post11('Transfer-Encoding:   chunked  '), { kind: 'chunked' }],
    ['an empty list element before chunked', post11('Transfer-Encoding: , chunked'), { kind: 'chunked' }],
    ['Transfer_Encoding is just another field', post11('Transfer_Encoding: chunked'), { kind: 'none' }],
  ];
  it.each(valid)('%s', (_name, input, expected) => {
    expect(framing(input)).toEqual(expected);
  });

  const cases: Bad[] = [
    ['CL.TE: Content-Length then Transfer-Encoding', post11('Content-Length: 6', 'Transfer-Encoding: chunked'), 400, 'ERR_HTTP_SMUGGLING', /both Content-Length and Transfer-Encoding/],
    ['TE.CL: Transfer-Encoding then Content-Length', post11('Transfer-Encoding: chunked', 'Content-Length: 4'), 400, 'ERR_HTTP_SMUGGLING'],
    ['CL.TE with Content-Length: 0', post11('Content-Length: 0', 'Transfer-Encoding: chunked'), 400, 'ERR_HTTP_SMUGGLING'],
    ['CL with an unknown coding', post11('Content-Length: 5', 'Transfer-Encoding: gzip'), 400, 'ERR_HTTP_SMUGGLING'],
    ['differing Content-Length fields', post11('Content-Length: 42', 'Content-Length: 43'), 400, 'ERR_HTTP_SMUGGLING', /differing/],
    ['a Content-Length list that differs', post11('Content-Length: 42, 43'), 400, 'ERR_HTTP_SMUGGLING'],
    ['a list against a field', post11('Content-Length: 42, 42', 'Content-Length: 4'), 400, 'ERR_HTTP_SMUGGLING'],
    ['Content-Length not a number', post11('Content-Length: abc'), 400, 'ERR_HTTP_INVALID_CONTENT_LENGTH', /digits only/],
    ['a negative Content-Length', post11('Content-Length: -1'), 400, 'ERR_HTTP_INVALID_CONTENT_LENGTH'],
    ['a signed Content-Length', post11('Content-Length: +5'), 400, 'ERR_HTTP_INVALID_CONTENT_LENGTH'],
    ['a hex Content-Length', post11('Content-Length: 0x10'), 400, 'ERR_HTTP_INVALID_CONTENT_LENGTH'],
    ['a fractional Content-Length', post11('Content-Length: 1.5'), 400, 'ERR_HTTP_INVALID_CONTENT_LENGTH'],
    ['an empty Content-Length', post11('Content-Length:'), 400, 'ERR_HTTP_INVALID_CONTENT_LENGTH'],
    ['two numbers separated by a space', post11('Content-Length: 1 2'), 400, 'ERR_HTTP_INVALID_CONTENT_LENGTH'],
    ['a trailing comma', post11('Content-Length: 42,'), 400, 'ERR_HTTP_INVALID_CONTENT_LENGTH'],
    ['a 16-digit Content-Length', post11('Content-Length: 1234567890123456'), 400, 'ERR_HTTP_INVALID_CONTENT_LENGTH', /too large/],
    ['a Content-Length that overflows 64 bits', post11('Content-Length: 18446744073709551617'), 400, 'ERR_HTTP_INVALID_CONTENT_LENGTH'],
    ['"chunked, identity" (last coding not chunked)', post11('Transfer-Encoding: chunked, identity'), 400, 'ERR_HTTP_SMUGGLING', /does not end with chunked/],
    ['identity alone', post11('Transfer-Encoding: identity'), 400, 'ERR_HTTP_SMUGGLING'],
    ['gzip alone', post11('Transfer-Encoding: gzip'), 400, 'ERR_HTTP_SMUGGLING'],
    ['"xchunked"', post11('Transfer-Encoding: xchunked'), 400, 'ERR_HTTP_SMUGGLING'],
    ['"chunked" then "gzip" in a second field', post11('Transfer-Encoding: chunked', 'Transfer-Encoding: gzip'), 400, 'ERR_HTTP_SMUGGLING'],
    ['chunked twice in a list', post11('Transfer-Encoding: chunked, chunked'), 400, 'ERR_HTTP_SMUGGLING', /more than once/],
    ['chunked twice in two fields', post11('Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'), 400, 'ERR_HTTP_SMUGGLING'],
    ['Transfer-Encoding in HTTP/1.0', head('POST / HTTP/1.0', 'Transfer-Encoding: chunked'), 400, 'ERR_HTTP_SMUGGLING', /HTTP\/1\.0/],
    ['"gzip, chunked" (a coding we do not decode)', post11('Transfer-Encoding: gzip, chunked'), 501, 'ERR_HTTP_UNSUPPORTED_TRANSFER_CODING', /'gzip'/],
    ['an unknown coding before chunked', post11('Transfer-Encoding: foo, chunked'), 501, 'ERR_HTTP_UNSUPPORTED_TRANSFER_CODING'],
    ['a coding with a parameter before chunked', post11('Transfer-Encoding: gzip;q=0.5, chunked'), 501, 'ERR_HTTP_UNSUPPORTED_TRANSFER_CODING'],
    ['parameters on chunked', post11('Transfer-Encoding: chunked;foo=bar'), 400, 'ERR_HTTP_INVALID_TRANSFER_ENCODING', /no parameters/],
    ['a parameter without a value', post11('Transfer-Encoding: gzip;q, chunked'), 400, 'ERR_HTTP_INVALID_TRANSFER_ENCODING'],
    ['a quoted "chunked"', post11('Transfer-Encoding: "chunked"'), 400, 'ERR_HTTP_INVALID_TRANSFER_ENCODING'],
    ['"chu nked"', post11('Transfer-Encoding: chu nked'), 400, 'ERR_HTTP_INVALID_TRANSFER_ENCODING'],
    ['an empty Transfer-Encoding', post11('Transfer-Encoding:'), 400, 'ERR_HTTP_INVALID_TRANSFER_ENCODING'],
    ['a Transfer-Encoding of commas', post11('Transfer-Encoding: , ,'), 400, 'ERR_HTTP_INVALID_TRANSFER_ENCODING'],
  ];
  it.each(cases)('rejects %s', (_name, input, status, code, message) => {
    const r = rejection(() => framing(input));
    expect([r.status, r.code]).toEqual([status, code]);
    if (message) expect(r.message).toMatch(message);
  });
});

describe('parseChunkSize', () => {
  const valid: Array<[line: string, size: number]> = [
    ['0', 0], ['1', 1], ['a', 10], ['A', 10], ['ff', 255], ['FF', 255], ['1000', 4096],
    ['0000000000000001', 1], ['1fffffffffffff', Number.MAX_SAFE_INTEGER],
    ['1a;name', 26], ['1;a=b', 1], ['1;a=b;c;d=e', 1], ['1 ; a = b', 1], ['1\t;a', 1],
    ['1;a="quoted value"', 1], ['1;a="esc\\"aped"', 1], ['1;a=""', 1], ['1;a="caf\xe9"', 1],
  ];
  it.each(valid)('%j is %d', (line, size) => {
    expect(parseChunkSize(bytes(line))).toBe(size);
  });

  const cases: Array<[line: string, message?: RegExp]> = [
    ['', /empty/], [' 1', /hex digit/], ['-1'], ['+1'], ['0x1', /'x'/], ['g'], ['1g'], ['1 ', /chunk extension/],
    ['1;'], ['1;=b'], ['1;a='], ['1;a=b;'], ['1;a=b c'], ['1;a=@'], ['1,2'], ['1;a="unterminated'],
    ['1;a="nul\x00"'], ['1;a="bad escape\\\x01"'], ['1\r', /bare CR/], ['1\n', /bare LF/],
    ['00000000000000001', /17 hex digits/], ['ffffffffffffffff', /too large/], ['1'.repeat(100), /hex digits/],
  ];
  it.each(cases)('rejects %j', (line, message) => {
    const r = rejection(() => parseChunkSize(bytes(line)));
    expect([r.status, r.code]).toEqual(line.endsWith('\r') || line.endsWith('\n') ? [400, 'ERR_HTTP_BAD_LINE_ENDING'] : [400, 'ERR_HTTP_INVALID_CHUNK']);
    if (message) expect(r.message).toMatch(message);
  });
});

describe('parseTrailers', () => {
  it('parses an empty trailer section and trailer fields', () => {
    expect(parseTrailers(bytes('\r\n'), LIMITS)).toEqual([]);
    expect(parseTrailers(bytes('X-Checksum: abc\r\n\r\n'), LIMITS)).toEqual([['x-checksum', 'abc']]);
    expect(parseTrailers(bytes('Expires:  never \r\nX-B:\r\nx-b: 2\r\n\r\n'), LIMITS))
      .toEqual([['expires', 'never'], ['x-b', ''], ['x-b', '2']]);
  });

  const cases: Bad[] = [
    ['Content-Length', 'Content-Length: 5\r\n\r\n', 400, 'ERR_HTTP_INVALID_TRAILER', /content-length.*not allowed/],
    ['Transfer-Encoding', 'Transfer-Encoding: chunked\r\n\r\n', 400, 'ERR_HTTP_INVALID_TRAILER'],
    ['Host', 'X-A: 1\r\nHost: evil\r\n\r\n', 400, 'ERR_HTTP_INVALID_TRAILER'],
    ['Connection', 'Connection: close\r\n\r\n', 400, 'ERR_HTTP_INVALID_TRAILER'],
    ['obs-fold', 'X-A: 1\r\n 2\r\n\r\n', 400, 'ERR_HTTP_OBS_FOLD'],
    ['whitespace before the colon', 'X-A : 1\r\n\r\n', 400, 'ERR_HTTP_INVALID_HEADER'],
    ['a NUL in a value', 'X-A: 1\x002\r\n\r\n', 400, 'ERR_HTTP_INVALID_HEADER', /trailer field/],
    ['a bare LF', 'X-A: 1\n\r\n', 400, 'ERR_HTTP_BAD_LINE_ENDING'],
    ['a bare CR', 'X-A: 1\r\r\n', 400, 'ERR_HTTP_BAD_LINE_ENDING'],
    ['no final empty line', 'X-A: 1\r\n', 400, 'ERR_HTTP_INVALID_TRAILER'],
    ['nothing at all', '', 400, 'ERR_HTTP_INVALID_TRAILER'],
    ['bytes after the end', '\r\nX-A: 1\r\n\r\n', 400, 'ERR_HTTP_INVALID_TRAILER'],
    ['too many trailers', `${Array.from({ length: 101 }, (_, k) => `X-${k}: v\r\n`).join('')}\r\n`, 431, 'ERR_HTTP_TOO_MANY_HEADERS'],
    ['a trailer section over maxHeaderBytes', `X-A: ${'a'.repeat(17_000)}\r\n\r\n`, 431, 'ERR_HTTP_HEADER_TOO_LARGE'],
  ];
  it.each(cases)('rejects %s', (_name, input, status, code, message) => {
    const r = rejection(() => parseTrailers(bytes(input), LIMITS));
    expect([r.status, r.code]).toEqual([status, code]);
    if (message) expect(r.message).toMatch(message);
  });
});

describe('mutated requests', () => {
  // A seeded generator: the same mutations on every run.
  let seed = 0x9e3779b9;
  const rand = (n: number): number => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return seed % n;
  };
  const INTERESTING = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x3a, 0x3b, 0x7f, 0x80, 0xff, 0x30, 0x61];
  function mutate(src: Buffer): Buffer {
    const bytesOut = [...src];
    for (let n = 1 + rand(3); n > 0; n--) {
      const at = rand(bytesOut.length);
      const b = rand(2) === 0 ? INTERESTING[rand(INTERESTING.length)] : rand(256);
      const op = rand(3);
      if (op === 0) bytesOut[at] = b;
      else if (op === 1) bytesOut.splice(at, 0, b);
      else bytesOut.splice(at, 1);
    }
    return Buffer.from(bytesOut);
  }

  it('either parse or throw HttpParseError, never anything else', () => {
    const seeds = [
      post11('Content-Length: 5', 'X-A: b'), post11('Transfer-Encoding: gzip, chunked'),
      head('OPTIONS * HTTP/1.0', 'Content-Length: 1, 1'), head('CONNECT h:1 HTTP/1.1', 'Host: h:1'),
    ].map(bytes);
    let parsed = 0;
    let refused = 0;
    for (let k = 0; k < 10_000; k++) {
      const input = mutate(seeds[k % seeds.length]);
      try {
        const h = parseRequestHead(input, LIMITS);
        requestBodyFraming(h);
        parseTrailers(input.subarray(input.indexOf('\r\n') + 2), LIMITS);
        parsed++;
      } catch (e) {
        if (!(e instanceof HttpParseError)) throw new Error(`${String(e)} for ${JSON.stringify(input.toString('latin1'))}`);
        expect([400, 431, 501, 505]).toContain(e.status);
        refused++;
      }
      try {
        parseChunkSize(mutate(bytes('1f;a="b";c=d')));
      } catch (e) {
        if (!(e instanceof HttpParseError)) throw e;
      }
    }
    expect(parsed).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });
});

describe('HttpParseError', () => {
  it('is an Error with a name, a status and a code', () => {
    let err: unknown;
    try {
      parse(get11('X-A : b'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(HttpParseError);
    const e = err as HttpParseError;
    expect([e.name, e.status, e.code]).toEqual(['HttpParseError', 400, 'ERR_HTTP_INVALID_HEADER']);
    expect(String(e)).toMatch(/^HttpParseError: whitespace between the header field name and the colon at byte \d+$/);
  });
});
