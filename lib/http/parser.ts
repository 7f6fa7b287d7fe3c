/**
 * A strict HTTP/1.1 request parser (RFC 9112), written for the green HTTP server. It works on
 * whole pieces the server has already framed: the request head (read up to and including the
 * blank line), one chunk-size line, one trailer section. Every rejection is an `HttpParseError`
 * with the HTTP status to answer (400, 431, 501, 505) and a stable `code`; the server answers
 * it and closes the connection, since after a framing doubt the next byte cannot be trusted.
 *
 * Strictness is the point: request smuggling lives in the gaps between a lenient parser and a
 * strict one (a proxy in front, this server behind). So: no obs-fold, no bare CR or bare LF, no
 * whitespace before a colon or around the request-line's single spaces, token-only methods and
 * field names, no control characters in values, Content-Length and Transfer-Encoding never
 * together, a Transfer-Encoding that must end in (and only once contain) `chunked`.
 *
 * Scanning is by 256-entry byte tables, one pass, no regular expression on the hot path.
 */

/** A parsed request head. Field names are lower-case, in arrival order, repeats kept. */
export interface RequestHead {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  headers: Array<[string, string]>;
}

/** Limits on a head or a trailer section: its byte length and its number of fields (431). */
export interface HeadLimits {
  maxHeaderBytes: number;
  maxHeaders: number;
}

/** How a request's body is delimited (RFC 9112 §6.3). */
export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

/** The codes an `HttpParseError` carries, with the status each one answers. */
export const HTTP_PARSE_ERROR_CODES = {
  ERR_HTTP_BAD_REQUEST_LINE: 400,
  ERR_HTTP_INVALID_TARGET: 400,
  ERR_HTTP_VERSION_NOT_SUPPORTED: 505,
  ERR_HTTP_BAD_LINE_ENDING: 400,
  ERR_HTTP_MALFORMED_HEAD: 400,
  ERR_HTTP_INVALID_HEADER: 400,
  ERR_HTTP_OBS_FOLD: 400,
  ERR_HTTP_HEADER_TOO_LARGE: 431,
  ERR_HTTP_TOO_MANY_HEADERS: 431,
  ERR_HTTP_MISSING_HOST: 400,
  ERR_HTTP_DUPLICATE_HOST: 400,
  ERR_HTTP_INVALID_HOST: 400,
  ERR_HTTP_SMUGGLING: 400,
  ERR_HTTP_INVALID_CONTENT_LENGTH: 400,
  ERR_HTTP_INVALID_TRANSFER_ENCODING: 400,
  ERR_HTTP_UNSUPPORTED_TRANSFER_CODING: 501,
  ERR_HTTP_INVALID_CHUNK: 400,
  ERR_HTTP_INVALID_TRAILER: 400,
} as const;

export type HttpParseErrorCode = keyof typeof HTTP_PARSE_ERROR_CODES;

/**
 * A request the parser refuses: `status` is the response to send (then close the connection),
 * `code` says which rule was broken, the message says where and what.
 *
 * @example
 * ```ts
 * try {
 *   parseRequestHead(Buffer.from('GET / HTTP/1.1\r\nHost : x\r\n\r\n'), { maxHeaderBytes: 16384, maxHeaders: 100 });
 * } catch (e) {
 *   if (e instanceof HttpParseError) console.log(e.status, e.code); // 400 ERR_HTTP_INVALID_HEADER
 * }
 * ```
 */
export class HttpParseError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(code: HttpParseErrorCode, message: string) {
    super(message);
    this.name = 'HttpParseError';
    this.code = code;
    this.status = HTTP_PARSE_ERROR_CODES[code];
  }
}

function fail(code: HttpParseErrorCode, message: string): never {
  throw new HttpParseError(code, message);
}

// ---------------------------------------------------------------------------------------------
// Byte classes

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0;
  return t;
}
const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const inSet = (s: string) => (c: number): boolean => s.includes(String.fromCharCode(c));

/** tchar (RFC 9110 §5.6.2): the characters of a method, a field name, a coding name. */
const TCHAR = table((c) => isAlpha(c) || isDigit(c) || inSet("!#$%&'*+-.^_`|~")(c));
/**
 * The characters of a request-target: RFC 3986's unreserved, sub-delims, ":" "@" "/" "?", "%"
 * of pct-encoding and "[" "]" of an IP-literal authority. Not `"<>\^`{|}`, not "#" (a fragment
 * is never sent), no space, control, DEL or raw non-ASCII byte.
 */
const TARGET = table((c) => isAlpha(c) || isDigit(c) || inSet("-._~!$&'()*+,;=:@/?%[]")(c));
/** field-vchar (RFC 9110 §5.5): VCHAR and obs-text; SP and HTAB are handled apart. */
const FIELD_VCHAR = table((c) => (c >= 0x21 && c <= 0x7e) || c >= 0x80);
/** field-vchar, SP and HTAB: what a field value is made of. */
const FIELD_CHAR = table((c) => c === SP || c === HTAB || FIELD_VCHAR[c] === 1);
/** The characters of a Host value: uri-host [":" port] (reg-name, IPv4, IP-literal). */
const HOST = table((c) => isAlpha(c) || isDigit(c) || inSet("-._~!$&'()*+,;=:%[]")(c));
/** qdtext (RFC 9110 §5.6.4). */
const QDTEXT = table((c) => c === 0x09 || c === 0x20 || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80);
/** What may follow a backslash in a quoted-pair: HTAB, SP, VCHAR, obs-text. */
const QPAIR = table((c) => c === 0x09 || c === 0x20 || (c >= 0x21 && c <= 0x7e) || c >= 0x80);
/** Hex digit values, 0xff for a non-digit. */
const HEX = new Uint8Array(256).fill(0xff);
for (let c = 0; c < 256; c++) {
  if (isDigit(c)) HEX[c] = c - 0x30;
  else if (c >= 0x41 && c <= 0x46) HEX[c] = c - 0x41 + 10;
  else if (c >= 0x61 && c <= 0x66) HEX[c] = c - 0x61 + 10;
}

type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };
const latin1 = (b: Buffer, start: number, end: number): string => (b as Latin1Buffer).latin1Slice(start, end);

/** A byte as it can be shown in a message: `'a'` or `0x0d`. */
function show(c: number | undefined): string {
  if (c === undefined) return 'end of input';
  if (c > 0x20 && c < 0x7f) return `'${String.fromCharCode(c)}'`;
  return `0x${c.toString(16).padStart(2, '0')}`;
}

/** The error for an unexpected CR or LF at `i` (a line ending that is not CRLF). */
function lineEndingError(b: Buffer, i: number, where: string): never {
  if (b[i] === LF) fail('ERR_HTTP_BAD_LINE_ENDING', `bare LF at byte ${i} in ${where}: lines must end with CRLF`);
  fail('ERR_HTTP_BAD_LINE_ENDING', `bare CR at byte ${i} in ${where}: CR not followed by LF`);
}

// ---------------------------------------------------------------------------------------------
// Request head

const M_GET = 'GET';
const M_POST = 'POST';
const M_HEAD = 'HEAD';
const M_PUT = 'PUT';

/** The method as a string, without a new allocation for the common ones. */
function methodString(b: Buffer, text: string, s: number, e: number): string {
  const n = e - s;
  const c0 = b[s];
  if (n === 3 && c0 === 0x47 && b[s + 1] === 0x45 && b[s + 2] === 0x54) return M_GET;
  if (n === 4 && c0 === 0x50 && b[s + 1] === 0x4f && b[s + 2] === 0x53 && b[s + 3] === 0x54) return M_POST;
  if (n === 4 && c0 === 0x48 && b[s + 1] === 0x45 && b[s + 2] === 0x41 && b[s + 3] === 0x44) return M_HEAD;
  if (n === 3 && c0 === 0x50 && b[s + 1] === 0x55 && b[s + 2] === 0x54) return M_PUT;
  return text.slice(s, e);
}

/**
 * Parses a request head: the bytes up to and including the CRLF CRLF that ends it. Checks the
 * request line (token method, single spaces, a request-target of one of RFC 9112's four forms
 * with only URI characters, `HTTP/1.0` or `HTTP/1.1` — any other well-formed version is 505),
 * every field line (token name directly followed by ":", value of field-vchar with SP/HTAB
 * inside, surrounding whitespace trimmed), CRLF line endings only, and the limits (431). An
 * HTTP/1.1 request must carry exactly one Host field (RFC 9112 §3.2, as Node's
 * `requireHostHeader`). One or more empty lines before the request line are skipped (§2.2).
 * Body framing is checked apart, by `requestBodyFraming`.
 *
 * @example
 * ```ts
 * const head = parseRequestHead(Buffer.from('GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-A:  1 \r\n\r\n'),
 *   { maxHeaderBytes: 16384, maxHeaders: 100 });
 * // { method: 'GET', target: '/a?b=1', version: '1.1', headers: [['host', 'example.com'], ['x-a', '1']] }
 * ```
 */
export function parseRequestHead(head: Buffer, limits: HeadLimits): RequestHead {
  const len = head.length;
  if (len > limits.maxHeaderBytes) {
    fail('ERR_HTTP_HEADER_TOO_LARGE', `request head of ${len} bytes is over the limit of ${limits.maxHeaderBytes} bytes`);
  }
  if (len < 4 || head[len - 1] !== LF || head[len - 2] !== CR || head[len - 3] !== LF || head[len - 4] !== CR) {
    fail('ERR_HTTP_MALFORMED_HEAD', 'request head does not end with CRLF CRLF');
  }
  const text = latin1(head, 0, len);
  let i = 0;
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
  while (head[i] === CR && head[i + 1] === LF) i += 2;

  // method SP
  const ms = i;
  while (TCHAR[head[i]] === 1) i++;
  if (head[i] !== SP || i === ms) {
    const c = head[i];
    if (i === ms && i >= len) fail('ERR_HTTP_BAD_REQUEST_LINE', 'empty request line');
    if (i === ms && c === SP) fail('ERR_HTTP_BAD_REQUEST_LINE', 'request line starts with a space: no method');
    if (c === LF || (c === CR && head[i + 1] !== LF)) lineEndingError(head, i, 'the request line');
    if (c === CR || c === LF) fail('ERR_HTTP_BAD_REQUEST_LINE', 'request line has a method only');
    fail('ERR_HTTP_BAD_REQUEST_LINE', `invalid character ${show(c)} at byte ${i} in the method (a method is a token)`);
  }
  const method = methodString(head, text, ms, i);
  i++;

  // request-target SP
  const ts = i;
  while (TARGET[head[i]] === 1) i++;
  if (head[i] !== SP || i === ts) {
    const c = head[i];
    if (i === ts && c === SP) fail('ERR_HTTP_BAD_REQUEST_LINE', `more than one space after the method at byte ${i}`);
    if (c === LF || (c === CR && head[i + 1] !== LF)) lineEndingError(head, i, 'the request line');
    if (i === ts) fail('ERR_HTTP_BAD_REQUEST_LINE', `request line without a request-target at byte ${i}`);
    if (c === CR || c === LF) fail('ERR_HTTP_BAD_REQUEST_LINE', 'request line without an HTTP version (HTTP/0.9 is not supported)');
    fail('ERR_HTTP_INVALID_TARGET', `invalid character ${show(c)} at byte ${i} in the request-target`);
  }
  const target = text.slice(ts, i);
  i++;

  // HTTP-version CRLF: "HTTP/" DIGIT "." DIGIT, exactly.
  if (
    head[i] !== 0x48 || head[i + 1] !== 0x54 || head[i + 2] !== 0x54 || head[i + 3] !== 0x50 || head[i + 4] !== 0x2f ||
    !isDigit(head[i + 5]) || head[i + 6] !== 0x2e || !isDigit(head[i + 7])
  ) {
    if (head[i] === SP) fail('ERR_HTTP_BAD_REQUEST_LINE', `more than one space after the request-target at byte ${i}`);
    fail('ERR_HTTP_BAD_REQUEST_LINE', `malformed HTTP version at byte ${i} (expected HTTP/1.1 or HTTP/1.0)`);
  }
  const major = head[i + 5] - 0x30;
  const minor = head[i + 7] - 0x30;
  i += 8;
  if (head[i] !== CR || head[i + 1] !== LF) {
    const c = head[i];
    if (c === LF || (c === CR && head[i + 1] !== LF)) lineEndingError(head, i, 'the request line');
    fail('ERR_HTTP_BAD_REQUEST_LINE', `unexpected ${show(c)} at byte ${i} after the HTTP version`);
  }
  i += 2;
  if (major !== 1 || minor > 1) fail('ERR_HTTP_VERSION_NOT_SUPPORTED', `HTTP/${major}.${minor} is not supported (only HTTP/1.0 and HTTP/1.1)`);
  const version: '1.0' | '1.1' = minor === 1 ? '1.1' : '1.0';
  checkTargetForm(method, target);

  // field lines
  const headers: Array<[string, string]> = [];
  if (head[i] === SP || head[i] === HTAB) {
    fail('ERR_HTTP_INVALID_HEADER', `whitespace at byte ${i} between the request line and the first field line`);
  }
  const end = parseFields(head, text, i, limits.maxHeaders, headers, 'header');
  if (end !== len) fail('ERR_HTTP_MALFORMED_HEAD', `bytes after the end of the request head at byte ${end}`);

  // Host (RFC 9112 §3.2): exactly one in HTTP/1.1, at most one in HTTP/1.0, and well-formed.
  let hosts = 0;
  let host = '';
  for (let k = 0; k < headers.length; k++) {
    const h = headers[k];
    if (h[0] === 'host') {
      hosts++;
      host = h[1];
    }
  }
  if (hosts > 1) fail('ERR_HTTP_DUPLICATE_HOST', `${hosts} Host fields (exactly one is allowed)`);
  if (hosts === 0) {
    if (version === '1.1') fail('ERR_HTTP_MISSING_HOST', 'HTTP/1.1 request without a Host field');
  } else {
    for (let k = 0; k < host.length; k++) {
      const c = host.charCodeAt(k);
      if (HOST[c] !== 1) fail('ERR_HTTP_INVALID_HOST', `invalid character ${show(c)} in the Host field`);
    }
  }
  return { method, target, version, headers };
}

/** The request-target must be one of RFC 9112 §3.2's forms, the one the method calls for. */
function checkTargetForm(method: string, target: string): void {
  const c0 = target.charCodeAt(0);
  if (method === 'CONNECT') {
    // authority-form: host ":" port, nothing else.
    const colon = target.lastIndexOf(':');
    if (c0 === 0x2f || colon <= 0 || colon === target.length - 1 || target.includes('/') || target.includes('@') ||
      target.includes('?')) {
      fail('ERR_HTTP_INVALID_TARGET', `CONNECT needs an authority-form target (host:port), got '${target}'`);
    }
    for (let k = colon + 1; k < target.length; k++) {
      if (!isDigit(target.charCodeAt(k))) fail('ERR_HTTP_INVALID_TARGET', `CONNECT target '${target}' has a non-numeric port`);
    }
    return;
  }
  if (c0 === 0x2f) return; // origin-form
  if (c0 === 0x2a) {
    // asterisk-form
    if (target.length !== 1) fail('ERR_HTTP_INVALID_TARGET', `invalid request-target '${target}'`);
    if (method !== 'OPTIONS') fail('ERR_HTTP_INVALID_TARGET', `asterisk-form target '*' is only for OPTIONS, not ${method}`);
    return;
  }
  // absolute-form: scheme ":" hier-part
  let k = 0;
  if (isAlpha(c0)) {
    k = 1;
    for (; k < target.length; k++) {
      const c = target.charCodeAt(k);
      if (!(isAlpha(c) || isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e)) break;
    }
  }
  if (k === 0 || target.charCodeAt(k) !== COLON || k === target.length - 1) {
    fail('ERR_HTTP_INVALID_TARGET', `request-target '${target.length > 64 ? `${target.slice(0, 64)}...` : target}' is not origin-form ("/..."), absolute-form ("scheme:..."), or '*'`);
  }
}

/**
 * Common field names, interned: a name that matches one (case-insensitively) is returned as
 * this constant instead of a new lower-cased string — no allocation, and comparisons with the
 * constant are a pointer check. Indexed by length, then by first letter.
 */
const KNOWN_NAMES = [
  'host', 'user-agent', 'accept', 'accept-encoding', 'accept-language', 'accept-charset', 'connection', 'keep-alive',
  'content-length', 'content-type', 'content-encoding', 'transfer-encoding', 'te', 'trailer', 'expect', 'upgrade',
  'cookie', 'authorization', 'cache-control', 'pragma', 'referer', 'origin', 'range', 'date', 'via', 'dnt',
  'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip', 'x-request-id', 'forwarded',
  'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions',
  'sec-fetch-mode', 'sec-fetch-site', 'sec-fetch-dest', 'sec-fetch-user', 'sec-ch-ua', 'sec-ch-ua-mobile',
  'sec-ch-ua-platform', 'upgrade-insecure-requests', 'priority', 'content-md5', 'x-requested-with',
];
const INTERN: Array<string[] | undefined> = [];
for (const n of KNOWN_NAMES) (INTERN[n.length * 32 + (n.charCodeAt(0) & 31)] ??= []).push(n);

/**
 * The interned lower-case name for bytes [s, e), or undefined. Folding with `| 0x20` is exact
 * for letters, digits and "-"; the only tchars it confuses ("^"/"~", "_"/DEL) occur in no known name.
 */
function internName(b: Buffer, s: number, e: number): string | undefined {
  const list = INTERN[(e - s) * 32 + (b[s] & 31)];
  if (list === undefined) return undefined;
  outer: for (let k = 0; k < list.length; k++) {
    const cand = list[k];
    for (let j = 0; j < cand.length; j++) {
      if ((b[s + j] | 0x20) !== cand.charCodeAt(j)) continue outer;
    }
    return cand;
  }
  return undefined;
}

/**
 * Parses field lines from `i` up to and including the empty line; pushes [lower-case name,
 * trimmed value] to `out`; returns the offset just past the empty line. `text` is `b` decoded as
 * latin1 (one native call per head; names and values are then cheap substrings of it).
 */
function parseFields(
  b: Buffer, text: string, i: number, maxFields: number, out: Array<[string, string]>, what: 'header' | 'trailer',
): number {
  const len = b.length;
  let count = 0;
  for (;;) {
    let c = b[i];
    if (c === CR) {
      if (b[i + 1] === LF) return i + 2;
      lineEndingError(b, i, `the ${what} section`);
    }
    if (c === undefined) fail(what === 'header' ? 'ERR_HTTP_MALFORMED_HEAD' : 'ERR_HTTP_INVALID_TRAILER', `${what} section does not end with an empty line`);
    if (c === LF) lineEndingError(b, i, `the ${what} section`);
    if (c === SP || c === HTAB) {
      fail('ERR_HTTP_OBS_FOLD', `${what} field line at byte ${i} starts with whitespace (obs-fold is not accepted)`);
    }

    // field-name ":"
    const ns = i;
    let upper = false;
    while (TCHAR[(c = b[i])] === 1) {
      if (c <= 0x5a && c >= 0x41) upper = true;
      i++;
    }
    if (c !== COLON || i === ns) {
      if (i === ns && c === COLON) fail('ERR_HTTP_INVALID_HEADER', `empty ${what} field name at byte ${i}`);
      if (c === SP || c === HTAB) fail('ERR_HTTP_INVALID_HEADER', `whitespace between the ${what} field name and the colon at byte ${i}`);
      if (c === CR || c === LF) fail('ERR_HTTP_INVALID_HEADER', `${what} field line without a colon at byte ${i}`);
      fail('ERR_HTTP_INVALID_HEADER', `invalid character ${show(c)} at byte ${i} in a ${what} field name`);
    }
    let name = internName(b, ns, i);
    if (name === undefined) {
      name = text.slice(ns, i);
      if (upper) name = name.toLowerCase();
    }
    i++;

    // OWS field-value OWS CRLF
    while ((c = b[i]) === SP || c === HTAB) i++;
    const vs = i;
    while (FIELD_CHAR[(c = b[i])] === 1) i++;
    let ve = i;
    while (ve > vs && ((c = b[ve - 1]) === SP || c === HTAB)) ve--;
    c = b[i];
    if (c !== CR || b[i + 1] !== LF) {
      if (c === CR || c === LF) lineEndingError(b, i, `the ${what} field '${name}'`);
      if (i >= len) fail('ERR_HTTP_INVALID_HEADER', `${what} field '${name}' runs to the end of input`);
      fail('ERR_HTTP_INVALID_HEADER', `invalid character ${show(c)} at byte ${i} in the value of the ${what} field '${name}'`);
    }
    i += 2;
    if (++count > maxFields) fail('ERR_HTTP_TOO_MANY_HEADERS', `more than ${maxFields} ${what} fields`);
    out.push([name, vs === ve ? '' : text.slice(vs, ve)]);
  }
}

// ---------------------------------------------------------------------------------------------
// Body framing

const MAX_CONTENT_LENGTH_DIGITS = 15; // < Number.MAX_SAFE_INTEGER; a body that long is a lie anyway

/** A Content-Length value: 1*DIGIT, or a list of identical ones ("42, 42"); -2 if they differ. */
function parseContentLength(v: string): number {
  let result = -1;
  let k = 0;
  const n = v.length;
  for (;;) {
    while (k < n && (v.charCodeAt(k) === SP || v.charCodeAt(k) === HTAB)) k++;
    const s = k;
    let value = 0;
    while (k < n && isDigit(v.charCodeAt(k))) {
      value = value * 10 + (v.charCodeAt(k) - 0x30);
      k++;
    }
    if (k === s) fail('ERR_HTTP_INVALID_CONTENT_LENGTH', `invalid Content-Length '${v}' (must be digits only)`);
    if (k - s > MAX_CONTENT_LENGTH_DIGITS) fail('ERR_HTTP_INVALID_CONTENT_LENGTH', `Content-Length '${v}' is too large`);
    if (result >= 0 && value !== result) return -2;
    result = value;
    while (k < n && (v.charCodeAt(k) === SP || v.charCodeAt(k) === HTAB)) k++;
    if (k === n) return result;
    if (v.charCodeAt(k) !== 0x2c) fail('ERR_HTTP_INVALID_CONTENT_LENGTH', `invalid Content-Length '${v}' (must be digits only)`);
    k++;
  }
}

/**
 * How the request's body is framed (RFC 9112 §6.3), or an error where framing is ambiguous —
 * the request-smuggling cases: Content-Length with Transfer-Encoding, Content-Length fields
 * (or a list) with differing values, a Content-Length that is not all digits or is too large,
 * Transfer-Encoding in HTTP/1.0, a Transfer-Encoding whose last coding is not `chunked` or that
 * names `chunked` twice (all 400); a coding other than `chunked` before it is 501 (this server
 * decodes none). Identical repeated Content-Lengths are accepted.
 *
 * @example
 * ```ts
 * requestBodyFraming(head); // { kind: 'chunked' } for 'Transfer-Encoding: chunked'
 * ```
 */
export function requestBodyFraming(head: RequestHead): BodyFraming {
  const headers = head.headers;
  let length = -1;
  let te: string | null = null;
  for (let k = 0; k < headers.length; k++) {
    const h = headers[k];
    const name = h[0];
    if (name.length === 14 && name === 'content-length') {
      const v = parseContentLength(h[1]);
      if (v === -2 || (length >= 0 && v !== length)) {
        fail('ERR_HTTP_SMUGGLING', `Content-Length fields with differing values ('${h[1]}')`);
      }
      length = v;
    } else if (name.length === 17 && name === 'transfer-encoding') {
      te = te === null ? h[1] : `${te},${h[1]}`;
    }
  }
  if (te !== null) {
    if (length >= 0) fail('ERR_HTTP_SMUGGLING', 'request has both Content-Length and Transfer-Encoding');
    if (head.version === '1.0') fail('ERR_HTTP_SMUGGLING', 'Transfer-Encoding in an HTTP/1.0 request');
    checkTransferEncoding(te);
    return { kind: 'chunked' };
  }
  if (length >= 0) return { kind: 'length', length };
  return { kind: 'none' };
}

const CHUNKED_FAST = 'chunked';

function checkTransferEncoding(te: string): void {
  if (te === CHUNKED_FAST) return;
  const codings: string[] = [];
  for (const raw of te.split(',')) {
    const element = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    if (element === '') continue; // RFC 9110 §5.6.1: empty list elements are ignored
    const semi = element.indexOf(';');
    const name = (semi < 0 ? element : element.slice(0, semi).replace(/[ \t]+$/, '')).toLowerCase();
    if (name === '' || !isToken(name)) fail('ERR_HTTP_INVALID_TRANSFER_ENCODING', `invalid transfer coding '${element}' in Transfer-Encoding '${te}'`);
    if (semi >= 0) {
      if (name === 'chunked') fail('ERR_HTTP_INVALID_TRANSFER_ENCODING', `'chunked' takes no parameters, got '${element}'`);
      checkParameters(element, semi, te);
    }
    codings.push(name);
  }
  if (codings.length === 0) fail('ERR_HTTP_INVALID_TRANSFER_ENCODING', 'empty Transfer-Encoding');
  const chunked = codings.filter((c) => c === 'chunked').length;
  if (chunked > 1) fail('ERR_HTTP_SMUGGLING', `Transfer-Encoding '${te}' applies chunked more than once`);
  if (codings[codings.length - 1] !== 'chunked') {
    fail('ERR_HTTP_SMUGGLING', `Transfer-Encoding '${te}' does not end with chunked: the body length cannot be determined`);
  }
  const other = codings.find((c) => c !== 'chunked');
  if (other === undefined) return;
  fail('ERR_HTTP_UNSUPPORTED_TRANSFER_CODING', `transfer coding '${other}' is not supported (only chunked)`);
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let k = 0; k < s.length; k++) if (TCHAR[s.charCodeAt(k)] !== 1) return false;
  return true;
}

/** `*( OWS ";" OWS token "=" ( token / quoted-string ) )` from `semi` in a transfer coding. */
function checkParameters(element: string, semi: number, te: string): void {
  const b = Buffer.from(element, 'latin1');
  const end = parseExtensions(b, semi, true);
  if (end < 0) fail('ERR_HTTP_INVALID_TRANSFER_ENCODING', `invalid transfer coding parameters in '${element}' (Transfer-Encoding '${te}')`);
}

// ---------------------------------------------------------------------------------------------
// Chunked bodies

/** Chunk sizes are capped at 16 hex digits (and at Number.MAX_SAFE_INTEGER). */
export const MAX_CHUNK_SIZE_DIGITS = 16;

/**
 * Parses `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )` from `i` to the end of
 * `b`; with `valueRequired` (transfer-parameters) the "=" value is mandatory. Returns b.length,
 * or -1 if malformed.
 */
function parseExtensions(b: Buffer, i: number, valueRequired: boolean): number {
  const len = b.length;
  while (i < len) {
    while (b[i] === SP || b[i] === HTAB) i++;
    if (b[i] !== 0x3b) return -1;
    i++;
    while (b[i] === SP || b[i] === HTAB) i++;
    const ns = i;
    while (TCHAR[b[i]] === 1) i++;
    if (i === ns) return -1;
    let j = i;
    while (b[j] === SP || b[j] === HTAB) j++;
    if (b[j] !== 0x3d) {
      if (valueRequired) return -1;
      continue; // name only; the loop checks for ';' or the end
    }
    i = j + 1;
    while (b[i] === SP || b[i] === HTAB) i++;
    if (b[i] === 0x22) {
      i++;
      for (;;) {
        const c = b[i];
        if (c === 0x22) break;
        if (c === 0x5c) {
          if (QPAIR[b[i + 1]] !== 1) return -1;
          i += 2;
        } else if (QDTEXT[c] === 1) i++;
        else return -1; // control character, or the end before the closing quote
      }
      i++;
    } else {
      const vs = i;
      while (TCHAR[b[i]] === 1) i++;
      if (i === vs) return -1;
    }
  }
  return len;
}

/**
 * Parses one chunk-size line, without its CRLF: 1 to 16 hex digits (no sign, no "0x", nothing
 * before them), then optional chunk extensions `;name[=token|"quoted"]` (RFC 9112 §7.1.1), which
 * are validated and ignored. Returns the chunk size; 0 is the last chunk.
 *
 * @example
 * ```ts
 * parseChunkSize(Buffer.from('1a;name="v"')); // 26
 * ```
 */
export function parseChunkSize(line: Buffer): number {
  const len = line.length;
  let i = 0;
  let size = 0;
  let d: number;
  while (i < len && (d = HEX[line[i]]) !== 0xff) {
    size = size * 16 + d;
    i++;
  }
  if (i === 0) {
    fail('ERR_HTTP_INVALID_CHUNK', len === 0 ? 'empty chunk-size line' : `invalid chunk size: ${show(line[0])} where a hex digit was expected`);
  }
  if (i > MAX_CHUNK_SIZE_DIGITS) fail('ERR_HTTP_INVALID_CHUNK', `chunk size of ${i} hex digits (at most ${MAX_CHUNK_SIZE_DIGITS})`);
  if (size > Number.MAX_SAFE_INTEGER) fail('ERR_HTTP_INVALID_CHUNK', 'chunk size too large');
  if (i < len) {
    const c = line[i];
    if (c !== 0x3b && c !== SP && c !== HTAB) {
      if (c === CR || c === LF) lineEndingError(line, i, 'a chunk-size line');
      fail('ERR_HTTP_INVALID_CHUNK', `invalid character ${show(c)} at byte ${i} after the chunk size`);
    }
    if (parseExtensions(line, i, false) < 0) {
      fail('ERR_HTTP_INVALID_CHUNK', `invalid chunk extension in '${latin1(line, 0, Math.min(len, 80))}'`);
    }
  }
  return size;
}

/** Fields that may not appear in a trailer section: framing, routing, connection control. */
const FORBIDDEN_TRAILERS = new Set([
  'content-length', 'transfer-encoding', 'host', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect',
]);

/**
 * Parses a trailer section (after the last chunk's size line): the bytes up to and including
 * the final CRLF (just "\r\n" when there are no trailers). Field lines are checked as in the
 * head; Content-Length, Transfer-Encoding, Host and the connection-control fields are refused.
 *
 * @example
 * ```ts
 * parseTrailers(Buffer.from('X-Checksum: abc\r\n\r\n'), { maxHeaderBytes: 16384, maxHeaders: 100 });
 * // [['x-checksum', 'abc']]
 * ```
 */
export function parseTrailers(block: Buffer, limits: HeadLimits): Array<[string, string]> {
  const len = block.length;
  if (len > limits.maxHeaderBytes) {
    fail('ERR_HTTP_HEADER_TOO_LARGE', `trailer section of ${len} bytes is over the limit of ${limits.maxHeaderBytes} bytes`);
  }
  const out: Array<[string, string]> = [];
  if (len === 2 && block[0] === CR && block[1] === LF) return out;
  const end = parseFields(block, latin1(block, 0, len), 0, limits.maxHeaders, out, 'trailer');
  if (end !== len) fail('ERR_HTTP_INVALID_TRAILER', `bytes after the end of the trailer section at byte ${end}`);
  for (let k = 0; k < out.length; k++) {
    if (FORBIDDEN_TRAILERS.has(out[k][0])) fail('ERR_HTTP_INVALID_TRAILER', `'${out[k][0]}' is not allowed in a trailer section`);
  }
  return out;
}
