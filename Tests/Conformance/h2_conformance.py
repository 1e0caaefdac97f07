#!/usr/bin/python3
"""Raw-frame HTTP/2 conformance suite (RFC 9113, RFC 7541), modelled on h2spec.

Each case opens a fresh connection (prior knowledge over TCP, or TLS with ALPN h2),
sends frames built byte by byte (hyperframe for well-formed frames, raw bytes for
malformed ones, hpack plus a small raw HPACK writer for header blocks), and checks
what the server answers against the outcome the RFC requires.

Run with Debian's interpreter, which has hyperframe and hpack:

    /usr/bin/python3 Tests/Conformance/h2_conformance.py --host 127.0.0.1 --port 8080
    /usr/bin/python3 Tests/Conformance/h2_conformance.py --port 8443 --tls --case '6.5*' --json

Outcomes:
  connection error X  GOAWAY with code X, then the connection closed (EOF or RST) within the
                      timeout; the GOAWAY's last-stream-id must not exceed the highest stream
                      this case opened (so 2^31-1 always fails it).
  stream error X      RST_STREAM with code X on that stream, after which the connection still
                      answers a PING (--allow-escalation: a connection error X passes too).
  stream or connection error X
                      either of those (where RFC 9113 allows both).
  response            HEADERS with :status on the stream, then END_STREAM.
  PING ACK, SETTINGS ACK, DATA of N octets, ...

--lenient applies h2spec's own verdicts instead (a GOAWAY with the code, an RST_STREAM with
the code on any stream, or a bare close all pass an error case).
"""

import argparse
import fnmatch
import json
import socket
import ssl
import struct
import sys
import time

try:
    import hpack
    from hpack.huffman import HuffmanEncoder
    from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
    from hyperframe.frame import (
        ContinuationFrame, DataFrame, ExtensionFrame, Frame, GoAwayFrame, HeadersFrame,
        PingFrame, PriorityFrame, PushPromiseFrame, RstStreamFrame, SettingsFrame,
        WindowUpdateFrame)
except ImportError as error:  # pragma: no cover
    sys.stderr.write("h2_conformance: %s; run it with /usr/bin/python3 (python3-hyperframe, "
                     "python3-hpack)\n" % error)
    sys.exit(2)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_WINDOW = 2 ** 31 - 1
MAX_STREAM_ID = 2 ** 31 - 1

# Frame types and flags (RFC 9113 section 6)
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
FRAME_NAMES = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING",
               "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"]
F_END_STREAM = 0x1
F_ACK = 0x1
F_END_HEADERS = 0x4
F_PADDED = 0x8
F_PRIORITY = 0x20

# Error codes (RFC 9113 section 7)
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
FLOW_CONTROL_ERROR = 0x3
SETTINGS_TIMEOUT = 0x4
STREAM_CLOSED = 0x5
FRAME_SIZE_ERROR = 0x6
REFUSED_STREAM = 0x7
CANCEL = 0x8
COMPRESSION_ERROR = 0x9
ERROR_NAMES = {
    0x0: "NO_ERROR", 0x1: "PROTOCOL_ERROR", 0x2: "INTERNAL_ERROR", 0x3: "FLOW_CONTROL_ERROR",
    0x4: "SETTINGS_TIMEOUT", 0x5: "STREAM_CLOSED", 0x6: "FRAME_SIZE_ERROR",
    0x7: "REFUSED_STREAM", 0x8: "CANCEL", 0x9: "COMPRESSION_ERROR", 0xa: "CONNECT_ERROR",
    0xb: "ENHANCE_YOUR_CALM", 0xc: "INADEQUATE_SECURITY", 0xd: "HTTP_1_1_REQUIRED",
}

# Settings (RFC 9113 section 6.5.2)
HEADER_TABLE_SIZE, ENABLE_PUSH, MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE, \
    MAX_HEADER_LIST_SIZE = range(1, 7)
SETTING_NAMES = {1: "HEADER_TABLE_SIZE", 2: "ENABLE_PUSH", 3: "MAX_CONCURRENT_STREAMS",
                 4: "INITIAL_WINDOW_SIZE", 5: "MAX_FRAME_SIZE", 6: "MAX_HEADER_LIST_SIZE"}


def error_name(code):
    return ERROR_NAMES.get(code, "0x%x" % code)


def codes_text(codes):
    return " or ".join(error_name(code) for code in codes)


# ---------------------------------------------------------------------------------------------
# Frame and HPACK writers


def raw_frame(ftype, flags, stream_id, payload=b""):
    """A frame exactly as given: nothing is checked (stream_id may carry the reserved bit)."""
    length = len(payload)
    return struct.pack(">BHBBL", (length >> 16) & 0xFF, length & 0xFFFF, ftype, flags,
                       stream_id) + payload


def hp_int(value, prefix_bits, first_byte=0):
    """RFC 7541 section 5.1 integer."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte | value])
    out = [first_byte | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hp_str(text, huffman=False):
    """RFC 7541 section 5.2 string literal."""
    data = text.encode("latin-1") if isinstance(text, str) else bytes(text)
    if huffman:
        data = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH).encode(data)
        return hp_int(len(data), 7, 0x80) + data
    return hp_int(len(data), 7) + data


def hp_indexed(index):
    """RFC 7541 section 6.1."""
    return hp_int(index, 7, 0x80)


# (first byte, prefix bits) of the literal representations, RFC 7541 section 6.2
LITERAL_KINDS = {"incremental": (0x40, 6), "without": (0x00, 4), "never": (0x10, 4)}


def hp_literal(name, value, kind="without", name_index=None, huffman=False):
    flag, bits = LITERAL_KINDS[kind]
    if name_index is not None:
        return hp_int(name_index, bits, flag) + hp_str(value, huffman)
    return bytes([flag]) + hp_str(name, huffman) + hp_str(value, huffman)


def hp_size_update(size):
    """RFC 7541 section 6.3."""
    return hp_int(size, 5, 0x20)


def raw_block(headers):
    """A header block of literals without indexing, names as given (no lowercasing), no Huffman:
    it changes no HPACK state, so it can be mixed freely with the connection's encoder."""
    return b"".join(hp_literal(name, value) for name, value in headers)


# ---------------------------------------------------------------------------------------------
# Connection


class CaseFail(Exception):
    pass


class CaseSkip(Exception):
    pass


class Conn(object):
    def __init__(self, opts, deadline):
        self.opts = opts
        self.deadline = deadline
        self.sock = None
        self.buf = bytearray()
        self.closed = None             # None, or how the server ended: "EOF", "RST", ...
        self.timed_out = False
        self.send_error = None
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.decoder.max_header_list_size = 1 << 30
        self.server_settings = {}
        self.settings_acks = 0         # SETTINGS ACKs received
        self.settings_sent = 0         # SETTINGS (not ACK) sent
        self.max_stream_opened = 0     # highest odd stream id this client sent HEADERS on
        self.block = None              # [frame, bytearray] of a server header block in progress
        self.log = []                  # what the server sent after the handshake
        self.logging = False
        self.frames_seen = 0
        self.http1 = None              # status line, if the server answered in HTTP/1.x

    # -- transport

    def remaining(self):
        return self.deadline - time.monotonic()

    def connect(self):
        timeout = max(self.remaining(), 0.05)
        sock = socket.create_connection((self.opts.host, self.opts.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.opts.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_alpn_protocols(["h2"])
            sock = context.wrap_socket(sock, server_hostname=self.opts.sni or None)
            if sock.selected_alpn_protocol() != "h2":
                raise CaseFail("TLS: the server did not select ALPN h2 (selected %r)"
                               % sock.selected_alpn_protocol())
        self.sock = sock

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass

    def send(self, *chunks):
        data = b"".join(chunks)
        if self.opts.verbose:
            sys.stderr.write("    send %d octets: %s\n" % (len(data), data[:64].hex()))
        try:
            self.sock.sendall(data)
        except OSError as error:   # the server closed already: the reads tell the rest
            self.send_error = str(error)

    def _fill(self, deadline):
        """Reads more bytes; False when closed or at the deadline."""
        if self.closed:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            self.timed_out = True
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            self.timed_out = True
            return False
        except ConnectionResetError:
            self.closed = "RST"
            return False
        except ssl.SSLError as error:
            self.closed = "TLS error: %s" % error.reason
            return False
        except OSError as error:
            self.closed = "error: %s" % error
            return False
        if not data:
            self.closed = "EOF"
            return False
        self.buf.extend(data)
        return True

    def next_event(self, deadline=None):
        """The next frame (its server-side effects applied), or "closed", "timeout", "http1"."""
        deadline = self.deadline if deadline is None else deadline
        while True:
            if self.http1 is not None:
                self.buf.clear()
            elif self.frames_seen == 0 and len(self.buf) >= 5 and bytes(self.buf[:5]) == b"HTTP/":
                line = bytes(self.buf).split(b"\r\n", 1)[0]
                self.http1 = line.decode("latin-1", "replace")
                self.buf.clear()
                self._record("HTTP/1.x answer %r" % self.http1)
                return "http1"
            elif len(self.buf) >= 9:
                length = (self.buf[0] << 16) | (self.buf[1] << 8) | self.buf[2]
                if len(self.buf) >= 9 + length:
                    return self._frame(length)
            if not self._fill(deadline):
                return "closed" if self.closed else "timeout"

    def _frame(self, length):
        header = bytes(self.buf[:9])
        body = bytes(self.buf[9:9 + length])
        del self.buf[:9 + length]
        self.frames_seen += 1
        try:
            frame, _ = Frame.parse_frame_header(memoryview(header), strict=False)
            frame.parse_body(memoryview(body))
        except Exception as error:  # a malformed frame from the server
            frame = ExtensionFrame(type=header[3], stream_id=0, flag_byte=header[4], body=body)
            frame.malformed = "%s %s" % (type(error).__name__, error)
        frame.flag_byte = header[4]
        self._apply(frame)
        self._record(describe(frame))
        if self.opts.verbose:
            sys.stderr.write("    recv %s\n" % describe(frame))
        return frame

    def _apply(self, frame):
        """What any client does on its own: ACK SETTINGS and PING, decode header blocks."""
        if isinstance(frame, SettingsFrame):
            if "ACK" in frame.flags:
                self.settings_acks += 1
            else:
                self.server_settings.update(frame.settings)
                self.send(raw_frame(SETTINGS, F_ACK, 0))
        elif isinstance(frame, PingFrame) and "ACK" not in frame.flags:
            self.send(raw_frame(PING, F_ACK, 0, frame.opaque_data))
        elif isinstance(frame, (HeadersFrame, PushPromiseFrame)):
            frame.end_stream = "END_STREAM" in frame.flags
            self.block = [frame, bytearray(frame.data)]
            if "END_HEADERS" in frame.flags:
                self._decode_block()
        elif isinstance(frame, ContinuationFrame) and self.block is not None:
            self.block[1].extend(frame.data)
            if "END_HEADERS" in frame.flags:
                frame.completes = self.block[0]
                self._decode_block()

    def _decode_block(self):
        first, data = self.block
        self.block = None
        try:
            first.decoded = self.decoder.decode(bytes(data))
        except Exception as error:
            first.decoded = None
            first.decode_error = str(error)
        first.complete = True

    def _record(self, text):
        if self.logging:
            self.log.append(text)

    # -- handshake

    def handshake(self, settings=()):
        self.send(PREFACE, self.settings(settings))
        got_settings = False
        while not (got_settings and self.settings_acks >= self.settings_sent):
            event = self.next_event()
            if event in ("closed", "timeout", "http1"):
                raise CaseFail("handshake failed: %s (server SETTINGS %s, our SETTINGS %s)" % (
                    self.end_state(), "received" if got_settings else "not received",
                    "acknowledged" if self.settings_acks else "not acknowledged"))
            if isinstance(event, SettingsFrame) and "ACK" not in event.flags:
                got_settings = True
        self.logging = True

    # -- frame builders (bytes; send them with send())

    def req(self, method="GET", path=None, extra=(), scheme=None, authority=None):
        scheme = scheme or ("https" if self.opts.tls else "http")
        path = self.opts.path if path is None else path
        headers = [(":method", method), (":scheme", scheme), (":path", path),
                   (":authority", authority or self.opts.authority)]
        return headers + list(extra)

    def enc(self, headers):
        return self.encoder.encode(headers)

    def headers(self, sid, block, end_stream=True, end_headers=True, pad=None, priority=None):
        if isinstance(block, list):
            block = self.enc(block)
        flags = []
        if end_stream:
            flags.append("END_STREAM")
        if end_headers:
            flags.append("END_HEADERS")
        frame = HeadersFrame(sid, data=block, flags=flags)
        if pad is not None:
            frame.flags.add("PADDED")
            frame.pad_length = pad
        if priority is not None:
            frame.flags.add("PRIORITY")
            frame.depends_on, frame.stream_weight, frame.exclusive = priority
        if sid % 2 == 1:
            self.max_stream_opened = max(self.max_stream_opened, sid)
        return frame.serialize()

    def cont(self, sid, block, end_headers=True):
        if isinstance(block, list):
            block = self.enc(block)
        return raw_frame(CONTINUATION, F_END_HEADERS if end_headers else 0, sid, block)

    def data(self, sid, payload, end_stream=False, pad=None):
        frame = DataFrame(sid, data=payload, flags=["END_STREAM"] if end_stream else [])
        if pad is not None:
            frame.flags.add("PADDED")
            frame.pad_length = pad
        return frame.serialize()

    def priority(self, sid, depends_on=0, weight=255, exclusive=False):
        return PriorityFrame(sid, depends_on=depends_on, stream_weight=weight,
                             exclusive=exclusive).serialize()

    def rst(self, sid, code):
        return raw_frame(RST_STREAM, 0, sid, struct.pack(">L", code))

    def settings(self, pairs=(), ack=False):
        if ack:
            return raw_frame(SETTINGS, F_ACK, 0)
        self.settings_sent += 1
        return raw_frame(SETTINGS, 0, 0, b"".join(struct.pack(">HL", k, v) for k, v in pairs))

    def ping(self, payload=b"\0" * 8, ack=False):
        return PingFrame(0, opaque_data=payload, flags=["ACK"] if ack else []).serialize()

    def goaway(self, last_stream_id=0, code=NO_ERROR, debug=b""):
        return GoAwayFrame(0, last_stream_id=last_stream_id, error_code=code,
                           additional_data=debug).serialize()

    def window_update(self, sid, increment):
        return raw_frame(WINDOW_UPDATE, 0, sid, struct.pack(">L", increment))

    # -- waiting helpers for the steps before a case's final check

    def wait_for(self, what, match, fail_stream=None):
        while True:
            event = self.next_event()
            if event in ("closed", "timeout", "http1"):
                raise CaseFail("expected %s; %s" % (what, self.summary()))
            if match(event):
                return event
            if isinstance(event, GoAwayFrame):
                raise CaseFail("expected %s; %s" % (what, self.summary()))
            if isinstance(event, RstStreamFrame) and event.stream_id == fail_stream:
                raise CaseFail("expected %s; %s" % (what, self.summary()))

    def wait_settings_ack(self):
        if self.settings_acks >= self.settings_sent:
            return
        self.wait_for("SETTINGS ACK", lambda e: self.settings_acks >= self.settings_sent)

    def wait_response_headers(self, sid):
        return block_of(self.wait_for("response HEADERS on stream %d" % sid,
                                      lambda e: is_final_headers(e, sid), fail_stream=sid))

    def wait_response(self, sid):
        headers = self.wait_response_headers(sid)
        if not headers.end_stream:
            self.wait_for("END_STREAM on stream %d" % sid,
                          lambda e: ends_stream(e, sid), fail_stream=sid)
        return status_of(headers)

    def wait_data(self, sid):
        event = self.wait_for("DATA on stream %d" % sid,
                              lambda e: (isinstance(e, DataFrame) and e.stream_id == sid)
                              or (is_final_headers(e, sid) and block_of(e).end_stream),
                              fail_stream=sid)
        if not isinstance(event, DataFrame):
            raise CaseSkip("the response has no content (this case needs a body of 3 or more "
                           "octets)")
        return event

    def wait_ping_ack(self, payload):
        return self.wait_for("PING ACK", lambda e: is_ping_ack(e, payload))

    # -- reporting

    def end_state(self):
        if self.closed:
            return "connection closed (%s)" % self.closed
        if self.timed_out:
            return "connection still open after %.1fs" % self.opts.timeout
        return "connection open"

    def summary(self):
        items = self.log
        if len(items) > 10:
            items = items[:4] + ["...(%d more)..." % (len(items) - 8)] + items[-4:]
        seen = ", ".join(items) if items else "no frames"
        text = "%s; %s" % (seen, self.end_state())
        if self.send_error:
            text += "; a send failed (%s)" % self.send_error
        return text


def status_of(frame):
    for name, value in getattr(frame, "decoded", None) or []:
        if name == ":status":
            return value
    return None


ContinuationFrame.completes = None


def block_of(event):
    """The HEADERS frame of a server header block that this event completes, or None."""
    first = event.completes if isinstance(event, ContinuationFrame) else event
    if isinstance(first, HeadersFrame) and getattr(first, "complete", False):
        return first
    return None


def is_final_headers(event, sid):
    first = block_of(event) if not isinstance(event, str) else None
    if first is None or first.stream_id != sid:
        return False
    status = status_of(first)
    return status is not None and not status.startswith("1")


def ends_stream(event, sid):
    if isinstance(event, DataFrame) and event.stream_id == sid and "END_STREAM" in event.flags:
        return True
    first = block_of(event) if not isinstance(event, str) else None
    return first is not None and first.stream_id == sid and first.end_stream


def is_ping_ack(event, payload):
    return isinstance(event, PingFrame) and "ACK" in event.flags and event.opaque_data == payload


def describe(frame):
    if getattr(frame, "malformed", None):
        return "malformed frame type %d (%s)" % (frame.type, frame.malformed)
    sid = frame.stream_id
    if isinstance(frame, DataFrame):
        return "DATA(s%d, %d octets%s)" % (sid, len(frame.data),
                                            ", END_STREAM" if "END_STREAM" in frame.flags else "")
    if isinstance(frame, (HeadersFrame, PushPromiseFrame)):
        name = "HEADERS" if isinstance(frame, HeadersFrame) else "PUSH_PROMISE"
        parts = ["s%d" % sid]
        if getattr(frame, "complete", False):
            status = status_of(frame)
            if getattr(frame, "decode_error", None):
                parts.append("undecodable: %s" % frame.decode_error)
            elif status is not None:
                parts.append(":status %s" % status)
        if "END_STREAM" in frame.flags:
            parts.append("END_STREAM")
        return "%s(%s)" % (name, ", ".join(parts))
    if isinstance(frame, RstStreamFrame):
        return "RST_STREAM(s%d, %s)" % (sid, error_name(frame.error_code))
    if isinstance(frame, GoAwayFrame):
        debug = frame.additional_data[:60].decode("utf-8", "replace")
        return "GOAWAY(last_stream_id=%d, %s%s)" % (frame.last_stream_id,
                                                    error_name(frame.error_code),
                                                    ", %r" % debug if debug else "")
    if isinstance(frame, SettingsFrame):
        if "ACK" in frame.flags:
            return "SETTINGS ACK"
        return "SETTINGS(%s)" % ", ".join("%s=%d" % (SETTING_NAMES.get(k, hex(k)), v)
                                          for k, v in frame.settings.items())
    if isinstance(frame, PingFrame):
        return "PING%s(%s)" % (" ACK" if "ACK" in frame.flags else "", frame.opaque_data.hex())
    if isinstance(frame, WindowUpdateFrame):
        return "WINDOW_UPDATE(s%d, +%d)" % (sid, frame.window_increment)
    if isinstance(frame, ContinuationFrame):
        return "CONTINUATION(s%d)" % sid
    if isinstance(frame, PriorityFrame):
        return "PRIORITY(s%d)" % sid
    return "frame type %d (s%d)" % (frame.type, sid)


# ---------------------------------------------------------------------------------------------
# Expected outcomes. verify(conn) -> (passed, note)


class Expect(object):
    lenient = False

    def verify(self, conn):
        raise NotImplementedError


def lenient_verdict(conn, codes, rst_ok):
    """h2spec's verdict: a GOAWAY (or, for stream errors, an RST_STREAM on any stream) with one
    of the codes, or the connection closing, passes."""
    while True:
        event = conn.next_event()
        if event == "closed":
            return True, ""
        if event == "timeout":
            return False, "no error seen"
        if isinstance(event, GoAwayFrame) and event.error_code in codes:
            return True, ""
        if rst_ok and isinstance(event, RstStreamFrame) and event.error_code in codes:
            return True, ""


class ConnErr(Expect):
    """GOAWAY with one of the codes, then the close."""

    def __init__(self, *codes, **kw):
        self.codes = codes
        self.bare_close_ok = kw.get("bare_close_ok", False)
        self.http1_ok = kw.get("http1_ok", False)
        self.exact_last = kw.get("exact_last")

    def __str__(self):
        text = "connection error %s (GOAWAY, then close)" % codes_text(self.codes)
        if self.bare_close_ok:
            text += " or a close without GOAWAY"
        if self.http1_ok:
            text += " or, on a cleartext port, an HTTP/1.x error answer and a close"
        if self.exact_last is not None:
            text += "; GOAWAY last_stream_id = %d" % self.exact_last
        return text

    def verify(self, conn):
        if Expect.lenient:
            return lenient_verdict(conn, self.codes, False)
        goaways = []
        while True:
            event = conn.next_event()
            if event in ("closed", "timeout"):
                break
            if isinstance(event, GoAwayFrame):
                goaways.append(event)
                if Expect.lenient and event.error_code in self.codes:
                    return True, ""
        if not goaways:
            if conn.closed and (self.bare_close_ok or Expect.lenient):
                return True, ""
            if conn.closed and conn.http1 and self.http1_ok:
                return True, ""
            return False, "no GOAWAY"
        matching = [g for g in goaways if g.error_code in self.codes]
        goaway = matching[0] if matching else goaways[0]
        problems = []
        if not matching:
            problems.append("GOAWAY code %s" % error_name(goaway.error_code))
        if not conn.closed and not Expect.lenient:
            problems.append("not closed after GOAWAY")
        last = goaway.last_stream_id
        if self.exact_last is not None:
            if last != self.exact_last:
                problems.append("last_stream_id %d, expected %d" % (last, self.exact_last))
        elif last > conn.max_stream_opened and not Expect.lenient:
            problems.append("last_stream_id %d > highest stream opened (%d)"
                            % (last, conn.max_stream_opened))
        return not problems, "; ".join(problems)


class StreamErr(Expect):
    """RST_STREAM with one of the codes on the stream; the connection then still answers a PING.
    With allow_conn, a connection error with one of the codes passes too."""

    strict = True    # without --allow-escalation a stream error must be an RST_STREAM

    def __init__(self, sid, *codes, **kw):
        self.sid = sid
        self.codes = codes
        self.allow_conn = kw.get("allow_conn", False)
        self.answer_400 = kw.get("answer_400", False)

    def __str__(self):
        if self.allow_conn:
            text = "stream error %s on stream %d (RST_STREAM) or connection error %s" % (
                codes_text(self.codes), self.sid, codes_text(self.codes))
        elif StreamErr.strict:
            text = "stream error %s (RST_STREAM on stream %d, connection kept)" % (
                codes_text(self.codes), self.sid)
        else:
            text = ("stream error %s (RST_STREAM on stream %d, connection kept; a connection "
                    "error %s passes too, RFC 9113 5.4.1)" % (codes_text(self.codes), self.sid,
                                                              codes_text(self.codes)))
        if self.answer_400:
            text += ", or a 400 response that ends the stream (8.2.1 SHOULD 400)"
        return text

    def verify(self, conn):
        if Expect.lenient:
            return lenient_verdict(conn, self.codes, True)
        wrong = None
        ended = False        # the server has ended its side of the stream
        while True:
            event = conn.next_event()
            if ends_stream(event, self.sid):
                ended = True
            if self.answer_400 and is_final_headers(event, self.sid) \
                    and status_of(block_of(event)) == "400":
                try:
                    if not block_of(event).end_stream:
                        conn.wait_for("END_STREAM on stream %d" % self.sid,
                                      lambda e: ends_stream(e, self.sid))
                    return True, "400 response"
                except CaseFail:
                    continue
            if event in ("closed", "timeout"):
                if conn.closed and Expect.lenient:
                    return True, ""
                if wrong is not None and wrong.after_end and wrong.error_code == NO_ERROR:
                    raise CaseSkip(
                        "inconclusive: the server answered in full, then RST_STREAM(NO_ERROR) "
                        "on stream %d, so RFC 9113 5.1 has it discard the stream's later "
                        "frames; point --path at a route that reads the request body (%s)"
                        % (self.sid, conn.summary()))
                if wrong is not None:
                    return False, "RST_STREAM code %s" % error_name(wrong.error_code)
                return False, "no RST_STREAM on stream %d" % self.sid
            if isinstance(event, RstStreamFrame):
                if Expect.lenient and event.error_code in self.codes:
                    return True, ""
                if event.stream_id != self.sid:
                    continue
                if event.error_code not in self.codes:
                    if wrong is None:
                        wrong = event
                        wrong.after_end = ended   # as h2spec, keep reading: the verdict is at the end
                    continue
                # a stream error leaves the connection usable
                payload = b"h2stream"
                conn.send(conn.ping(payload))
                after = conn.next_event()
                while not (after in ("closed", "timeout") or is_ping_ack(after, payload)
                           or isinstance(after, GoAwayFrame)):
                    after = conn.next_event()
                if is_ping_ack(after, payload):
                    return True, ""
                if self.allow_conn or not StreamErr.strict:
                    return ConnErr(*self.codes).verify_after(conn, after)
                return False, "the connection did not survive the stream error"
            if isinstance(event, GoAwayFrame):
                if Expect.lenient and event.error_code in self.codes:
                    return True, ""
                if self.allow_conn:
                    return ConnErr(*self.codes).verify_after(conn, event)
                if not StreamErr.strict:
                    passed, note = ConnErr(*self.codes).verify_after(conn, event)
                    return passed, note or "escalated to a connection error"
                while conn.next_event() not in ("closed", "timeout"):
                    pass    # read on, so that the report says whether it closed
                return False, "a connection error instead of a stream error"


def _verify_after(self, conn, first):
    """ConnErr's check when the first GOAWAY (or the end) has been read already."""
    goaways = [first] if isinstance(first, GoAwayFrame) else []
    while first not in ("closed", "timeout"):
        first = conn.next_event()
        if isinstance(first, GoAwayFrame):
            goaways.append(first)
    if not goaways:
        return False, "no GOAWAY"
    matching = [g for g in goaways if g.error_code in self.codes]
    goaway = matching[0] if matching else goaways[0]
    problems = []
    if not matching:
        problems.append("GOAWAY code %s" % error_name(goaway.error_code))
    if not conn.closed:
        problems.append("not closed after GOAWAY")
    if goaway.last_stream_id > conn.max_stream_opened:
        problems.append("last_stream_id %d > highest stream opened (%d)"
                        % (goaway.last_stream_id, conn.max_stream_opened))
    return not problems, "; ".join(problems)


ConnErr.verify_after = _verify_after


def Either(sid, *codes):
    return StreamErr(sid, *codes, allow_conn=True)


class Response(Expect):
    def __init__(self, sid=1):
        self.sid = sid

    def __str__(self):
        return "a response on stream %d (HEADERS with :status, then END_STREAM)" % self.sid

    def verify(self, conn):
        try:
            conn.wait_response(self.sid)
        except CaseFail as failure:
            return False, str(failure).split(";")[0]
        return True, ""


class PingAck(Expect):
    def __init__(self, payload=b"\0" * 8, close_ok=False):
        self.payload = payload
        self.close_ok = close_ok

    def __str__(self):
        text = "PING ACK with the same 8 octets (%s)" % self.payload.hex()
        return text + (" or the connection closed" if self.close_ok else "")

    def verify(self, conn):
        while True:
            event = conn.next_event()
            if event in ("closed", "timeout"):
                if conn.closed and self.close_ok:
                    return True, ""
                return False, "no PING ACK"
            if isinstance(event, PingFrame) and "ACK" in event.flags:
                if event.opaque_data == self.payload:
                    return True, ""
                return False, "a PING ACK with other octets (%s)" % event.opaque_data.hex()
            if isinstance(event, GoAwayFrame) and not self.close_ok:
                return False, "GOAWAY instead of PING ACK"


class SettingsAck(Expect):
    def __str__(self):
        return "SETTINGS ACK"

    def verify(self, conn):
        try:
            conn.wait_settings_ack()
        except CaseFail:
            return False, "no SETTINGS ACK"
        return True, ""


class DataLen(Expect):
    def __init__(self, sid, length):
        self.sid = sid
        self.length = length

    def __str__(self):
        return "a DATA frame of %d octet(s) on stream %d" % (self.length, self.sid)

    def verify(self, conn):
        try:
            frame = conn.wait_data(self.sid)
        except CaseFail:
            return False, "no DATA"
        if len(frame.data) != self.length:
            return False, "DATA of %d octets" % len(frame.data)
        return True, ""


class Custom(Expect):
    """A case that checks everything itself (raises CaseFail) and only describes the outcome."""

    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text

    def verify(self, conn):
        return True, ""


# ---------------------------------------------------------------------------------------------
# Cases

CASES = []


class Case(object):
    def __init__(self, cid, description, requirement, expect, fn, handshake, settings, h2spec):
        self.id = cid
        self.description = description
        self.requirement = requirement
        self.expect = expect
        self.fn = fn
        self.handshake = handshake
        self.settings = settings
        self.h2spec = h2spec


def case(cid, description, requirement, expect, handshake=True, settings=(), h2spec=None):
    def register(fn):
        CASES.append(Case(cid, description, requirement, expect, fn, handshake, settings,
                          h2spec))
        return fn
    return register


def dummy_headers(count, size=4000):
    return [("x-dummy%d" % i, "x" * size) for i in range(count)]


# 3.4 Connection preface

@case("3.4/1", "Sends a client connection preface",
      "The server connection preface is a SETTINGS frame that MUST be the first frame the "
      "server sends.", Custom("a SETTINGS frame (not ACK) as the server's first frame"),
      handshake=False, h2spec="http2/3.5/1")
def _(c):
    c.send(PREFACE, c.settings())
    c.logging = True
    event = c.next_event()
    if not (isinstance(event, SettingsFrame) and "ACK" not in event.flags):
        raise CaseFail("first frame: %s" % c.summary())


@case("3.4/2", "Sends an invalid connection preface",
      "Clients and servers MUST treat an invalid connection preface as a connection error of "
      "type PROTOCOL_ERROR; a GOAWAY MAY be omitted.",
      ConnErr(PROTOCOL_ERROR, bare_close_ok=True, http1_ok=True), handshake=False,
      h2spec="http2/3.5/2")
def _(c):
    c.logging = True
    c.send(b"INVALID CONNECTION PREFACE\r\n\r\n")


@case("3.4/3", "Sends the preface octets followed by a PING instead of SETTINGS",
      "The client connection preface is the 24 octets followed by a SETTINGS frame; an invalid "
      "preface is a connection error of type PROTOCOL_ERROR.",
      ConnErr(PROTOCOL_ERROR, bare_close_ok=True), handshake=False)
def _(c):
    c.logging = True
    c.send(PREFACE, c.ping())


# 4.1 Frame format

@case("4.1/1", "Sends a frame with an unknown type",
      "Implementations MUST ignore and discard frames of unknown types.", PingAck(),
      h2spec="http2/4.1/1")
def _(c):
    c.send(raw_frame(0x16, 0, 0, b"\0" * 8), c.ping())


@case("4.1/2", "Sends a PING frame with undefined flags",
      "Flags with no defined semantics for a frame type MUST be ignored.", PingAck(b"h2flags!"),
      h2spec="http2/4.1/2")
def _(c):
    c.send(raw_frame(PING, 0x16 | 0xC0, 0, b"h2flags!"))


@case("4.1/3", "Sends a PING frame with the reserved bit of the stream identifier set",
      "The reserved bit MUST be ignored when receiving.", PingAck(b"reserved"),
      h2spec="http2/4.1/3")
def _(c):
    c.send(raw_frame(PING, 0, 0x80000000, b"reserved"))


# 4.2 Frame size

@case("4.2/1", "Sends a DATA frame of 2^14 octets",
      "All implementations MUST be capable of receiving frames up to 2^14 octets.",
      Response(1), h2spec="http2/4.2/1")
def _(c):
    c.send(c.headers(1, c.req("POST"), end_stream=False),
           c.data(1, b"x" * 16384, end_stream=True))


@case("4.2/2", "Sends a DATA frame larger than SETTINGS_MAX_FRAME_SIZE",
      "An endpoint MUST send an error code of FRAME_SIZE_ERROR if a frame exceeds "
      "SETTINGS_MAX_FRAME_SIZE.", Either(1, FRAME_SIZE_ERROR), h2spec="http2/4.2/2")
def _(c):
    limit = c.server_settings.get(MAX_FRAME_SIZE, 16384)
    if limit >= 65535:
        raise CaseSkip("the server's SETTINGS_MAX_FRAME_SIZE (%d) is not below the stream "
                       "window" % limit)
    c.send(c.headers(1, c.req("POST"), end_stream=False),
           c.data(1, b"x" * (limit + 1), end_stream=True))


@case("4.2/3", "Sends a HEADERS frame larger than SETTINGS_MAX_FRAME_SIZE",
      "A frame size error in a frame that carries a field block MUST be treated as a "
      "connection error.", ConnErr(FRAME_SIZE_ERROR), h2spec="http2/4.2/3")
def _(c):
    limit = c.server_settings.get(MAX_FRAME_SIZE, 16384)
    if limit > 1 << 20:
        raise CaseSkip("the server's SETTINGS_MAX_FRAME_SIZE is %d" % limit)
    block = raw_block(c.req() + dummy_headers(limit // 4000 + 1))
    c.send(c.headers(1, block))


# 4.3 Field section compression

@case("4.3/1", "Sends an invalid header block fragment",
      "A decoding error in a field block MUST be treated as a connection error of type "
      "COMPRESSION_ERROR.", ConnErr(COMPRESSION_ERROR), h2spec="http2/4.3/1")
def _(c):
    # literal with incremental indexing, no name length and no value
    c.send(raw_frame(HEADERS, F_END_STREAM | F_END_HEADERS, 1, b"\x40"))
    c.max_stream_opened = 1


@case("4.3/2", "Sends a PRIORITY frame while sending a header block",
      "Field blocks MUST be transmitted as a contiguous sequence of frames, with no "
      "interleaved frames of any other type: a connection error of type PROTOCOL_ERROR.",
      ConnErr(PROTOCOL_ERROR), h2spec="http2/4.3/2")
def _(c):
    c.send(c.headers(1, c.req(), end_stream=False, end_headers=False), c.priority(1),
           c.cont(1, raw_block(dummy_headers(1))))


@case("4.3/3", "Sends a HEADERS frame to another stream while sending a header block",
      "Field blocks MUST be transmitted with no interleaved frames from any other stream: a "
      "connection error of type PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR),
      h2spec="http2/4.3/3")
def _(c):
    c.send(c.headers(1, raw_block(c.req()), end_stream=False, end_headers=False),
           c.headers(3, raw_block(c.req())), c.cont(1, raw_block(dummy_headers(1))))


# 5.1 Stream states

@case("5.1/1", "idle: Sends a DATA frame",
      "Receiving any frame other than HEADERS or PRIORITY on an idle stream MUST be a "
      "connection error of type PROTOCOL_ERROR (6.1: a stream error STREAM_CLOSED).",
      Either(1, PROTOCOL_ERROR, STREAM_CLOSED), h2spec="http2/5.1/1")
def _(c):
    c.send(c.data(1, b"test", end_stream=True))


@case("5.1/2", "idle: Sends a RST_STREAM frame",
      "Receiving any frame other than HEADERS or PRIORITY on an idle stream MUST be a "
      "connection error of type PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/5.1/2")
def _(c):
    c.send(c.rst(1, CANCEL))


@case("5.1/3", "idle: Sends a WINDOW_UPDATE frame",
      "Receiving any frame other than HEADERS or PRIORITY on an idle stream MUST be a "
      "connection error of type PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/5.1/3")
def _(c):
    c.send(c.window_update(1, 100))


@case("5.1/4", "idle: Sends a CONTINUATION frame",
      "Receiving any frame other than HEADERS or PRIORITY on an idle stream MUST be a "
      "connection error of type PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/5.1/4")
def _(c):
    c.send(c.cont(1, raw_block(c.req())))


@case("5.1/5", "half-closed (remote): Sends a DATA frame",
      "Frames other than WINDOW_UPDATE, PRIORITY or RST_STREAM on a half-closed (remote) "
      "stream MUST get a stream error of type STREAM_CLOSED.", StreamErr(1, STREAM_CLOSED),
      h2spec="http2/5.1/5")
def _(c):
    c.send(c.headers(1, c.req()), c.data(1, b"test", end_stream=True))


@case("5.1/6", "half-closed (remote): Sends a HEADERS frame",
      "Frames other than WINDOW_UPDATE, PRIORITY or RST_STREAM on a half-closed (remote) "
      "stream MUST get a stream error of type STREAM_CLOSED; a server that has already answered "
      "has closed the stream, where §5.1 makes it a connection error STREAM_CLOSED (h2spec "
      "accepts either).", Either(1, STREAM_CLOSED), h2spec="http2/5.1/6")
def _(c):
    c.send(c.headers(1, c.req()), c.headers(1, c.req()))


@case("5.1/7", "half-closed (remote): Sends a CONTINUATION frame",
      "Half-closed (remote): stream error STREAM_CLOSED; a CONTINUATION not preceded by a "
      "HEADERS without END_HEADERS: connection error PROTOCOL_ERROR.",
      Either(1, STREAM_CLOSED, PROTOCOL_ERROR), h2spec="http2/5.1/7")
def _(c):
    block = raw_block(c.req())
    c.send(c.headers(1, block), c.cont(1, block))


@case("5.1/8", "closed: Sends a DATA frame after sending RST_STREAM",
      "DATA on a stream not open or half-closed (local) MUST get a stream error STREAM_CLOSED; "
      "any frame on a closed stream MAY be a connection error STREAM_CLOSED.",
      Either(1, STREAM_CLOSED), h2spec="http2/5.1/8")
def _(c):
    c.send(c.headers(1, c.req("POST"), end_stream=False), c.rst(1, CANCEL),
           c.data(1, b"test", end_stream=True))


@case("5.1/9", "closed: Sends a HEADERS frame after sending RST_STREAM",
      "An endpoint MUST NOT send frames other than PRIORITY on a closed stream; the receiver "
      "treats it as a stream error or connection error STREAM_CLOSED.",
      Either(1, STREAM_CLOSED), h2spec="http2/5.1/9")
def _(c):
    c.send(c.headers(1, c.req("POST"), end_stream=False), c.rst(1, CANCEL),
           c.headers(1, c.req()))


@case("5.1/10", "closed: Sends a CONTINUATION frame after sending RST_STREAM",
      "A frame on a closed stream: STREAM_CLOSED; a CONTINUATION without a preceding open "
      "field block: connection error PROTOCOL_ERROR.",
      Either(1, STREAM_CLOSED, PROTOCOL_ERROR), h2spec="http2/5.1/10")
def _(c):
    c.send(c.headers(1, c.req("POST"), end_stream=False), c.rst(1, CANCEL),
           c.cont(1, raw_block(dummy_headers(1))))


@case("5.1/11", "closed: Sends a DATA frame on a stream closed by END_STREAM both ways",
      "DATA on a stream not open or half-closed (local) MUST get a stream error STREAM_CLOSED "
      "(MAY be a connection error STREAM_CLOSED).", Either(1, STREAM_CLOSED),
      h2spec="http2/5.1/11")
def _(c):
    c.send(c.headers(1, c.req()))
    c.wait_response(1)
    c.send(c.data(1, b"test", end_stream=True))


@case("5.1/12", "closed: Sends a HEADERS frame on a stream closed by END_STREAM both ways",
      "Receipt of a frame other than PRIORITY on a closed stream: connection error "
      "STREAM_CLOSED.", ConnErr(STREAM_CLOSED), h2spec="http2/5.1/12")
def _(c):
    c.send(c.headers(1, c.req()))
    c.wait_response(1)
    c.send(c.headers(1, c.req()))


@case("5.1/13", "closed: Sends a CONTINUATION frame on a stream closed by END_STREAM both ways",
      "A frame on a closed stream: connection error STREAM_CLOSED; a CONTINUATION without an "
      "open field block: connection error PROTOCOL_ERROR.",
      ConnErr(STREAM_CLOSED, PROTOCOL_ERROR), h2spec="http2/5.1/13")
def _(c):
    c.send(c.headers(1, c.req()))
    c.wait_response(1)
    c.send(c.cont(1, raw_block(dummy_headers(1))))


# 5.1.1 Stream identifiers

@case("5.1.1/1", "Sends an even-numbered stream identifier",
      "Streams initiated by a client MUST use odd-numbered identifiers; an unexpected stream "
      "identifier is a connection error of type PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR),
      h2spec="http2/5.1.1/1")
def _(c):
    c.send(c.headers(2, c.req()))


@case("5.1.1/2", "Sends a stream identifier lower than a previous one",
      "A new stream identifier MUST be greater than all streams the client opened: a "
      "connection error of type PROTOCOL_ERROR (stream 3 is closed by then: STREAM_CLOSED as "
      "5.1 allows).", ConnErr(PROTOCOL_ERROR, STREAM_CLOSED), h2spec="http2/5.1.1/2")
def _(c):
    c.send(c.headers(5, c.req()), c.headers(3, c.req()))


# 5.1.2 Stream concurrency

@case("5.1.2/1", "Opens more streams than SETTINGS_MAX_CONCURRENT_STREAMS",
      "A HEADERS frame that exceeds the advertised concurrent stream limit MUST be a stream "
      "error of type PROTOCOL_ERROR or REFUSED_STREAM.",
      Custom("stream error REFUSED_STREAM or PROTOCOL_ERROR on the stream over the limit"),
      settings=[(INITIAL_WINDOW_SIZE, 0)], h2spec="http2/5.1.2/1")
def _(c):
    limit = c.server_settings.get(MAX_CONCURRENT_STREAMS)
    if limit is None:
        raise CaseSkip("the server advertises no SETTINGS_MAX_CONCURRENT_STREAMS")
    if limit > 2000:
        raise CaseSkip("SETTINGS_MAX_CONCURRENT_STREAMS is %d" % limit)
    # the zero window keeps every response from finishing, so every stream stays active
    frames = [c.headers(2 * i + 1, c.req()) for i in range(limit + 1)]
    c.send(*frames)
    return StreamErr(2 * limit + 1, REFUSED_STREAM, PROTOCOL_ERROR)


# 5.3.1 Stream dependencies (RFC 7540; RFC 9113 keeps the fields, not this rule's text)

@case("5.3.1/1", "Sends a HEADERS frame that depends on itself",
      "RFC 7540 5.3.1: a stream cannot depend on itself; a stream error of type "
      "PROTOCOL_ERROR.", StreamErr(1, PROTOCOL_ERROR), h2spec="http2/5.3.1/1")
def _(c):
    c.send(c.headers(1, c.req(), priority=(1, 255, False)))


@case("5.3.1/2", "Sends a PRIORITY frame that depends on itself",
      "RFC 7540 5.3.1: a stream cannot depend on itself; PROTOCOL_ERROR (the stream is idle, "
      "so a connection error is as good).", Either(1, PROTOCOL_ERROR), h2spec="http2/5.3.1/2")
def _(c):
    c.send(c.priority(1, depends_on=1))


# 5.4.1 Connection error handling

@case("5.4.1/1", "Sends an invalid PING frame: the connection closes",
      "After sending the GOAWAY frame for an error condition, the endpoint MUST close the TCP "
      "connection.", ConnErr(PROTOCOL_ERROR, bare_close_ok=True), h2spec="http2/5.4.1/1")
def _(c):
    c.send(raw_frame(PING, 0, 3, b"\0" * 8))


@case("5.4.1/2", "Sends an invalid PING frame: a GOAWAY first",
      "An endpoint that encounters a connection error SHOULD first send a GOAWAY frame.",
      ConnErr(PROTOCOL_ERROR), h2spec="http2/5.4.1/2")
def _(c):
    c.send(raw_frame(PING, 0, 3, b"\0" * 8))


@case("5.4.1/3", "Connection error after a stream was processed: GOAWAY names that stream",
      "The GOAWAY carries the stream identifier of the last stream the endpoint received from "
      "its peer.", ConnErr(PROTOCOL_ERROR, exact_last=1))
def _(c):
    c.send(c.headers(1, c.req()))
    c.wait_response(1)
    c.send(raw_frame(PING, 0, 3, b"\0" * 8))


# 5.5 Extending HTTP/2

@case("5.5/1", "Sends an unknown extension frame",
      "Implementations MUST ignore unknown or unsupported values and discard frames of unknown "
      "types.", PingAck(), h2spec="http2/5.5/1")
def _(c):
    c.send(raw_frame(0x16, 0, 0, b"\0" * 8), c.ping())


@case("5.5/2", "Sends an unknown extension frame in the middle of a header block",
      "Extension frames in the middle of a field block MUST be a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/5.5/2")
def _(c):
    c.send(c.headers(1, c.req(), end_headers=False), raw_frame(0x16, 0, 0, b"\0" * 8))


# 6.1 DATA

@case("6.1/1", "Sends a DATA frame on stream 0",
      "A DATA frame with stream identifier 0 MUST be a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.1/1")
def _(c):
    c.send(raw_frame(DATA, F_END_STREAM, 0, b"test"))


@case("6.1/2", "Sends a DATA frame on a stream not open or half-closed (local)",
      "DATA on a stream not open or half-closed (local) MUST get a stream error of type "
      "STREAM_CLOSED.", StreamErr(1, STREAM_CLOSED), h2spec="http2/6.1/2")
def _(c):
    c.send(c.headers(1, c.req("POST")), c.data(1, b"test", end_stream=True))


@case("6.1/3", "Sends a DATA frame with a pad length not less than the payload",
      "Padding as long as the frame payload or longer MUST be a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.1/3")
def _(c):
    c.send(c.headers(1, c.req("POST", extra=[("content-length", "4")]), end_stream=False),
           raw_frame(DATA, F_PADDED | F_END_STREAM, 1, b"\x06Test"))


# 6.2 HEADERS

@case("6.2/1", "Sends a HEADERS frame without END_HEADERS, then a PRIORITY frame",
      "A HEADERS frame without END_HEADERS MUST be followed by a CONTINUATION for the same "
      "stream: otherwise a connection error of type PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR),
      h2spec="http2/6.2/1")
def _(c):
    c.send(c.headers(1, c.req(), end_stream=False, end_headers=False), c.priority(1),
           c.cont(1, raw_block(dummy_headers(1))))


@case("6.2/2", "Sends a HEADERS frame to another stream while a header block is open",
      "A HEADERS frame without END_HEADERS followed by a frame on a different stream: a "
      "connection error of type PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.2/2")
def _(c):
    c.send(c.headers(1, raw_block(c.req()), end_stream=False, end_headers=False),
           c.headers(3, raw_block(c.req())), c.cont(1, raw_block(dummy_headers(1))))


@case("6.2/3", "Sends a HEADERS frame on stream 0",
      "A HEADERS frame with stream identifier 0 MUST be a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.2/3")
def _(c):
    c.send(raw_frame(HEADERS, F_END_STREAM | F_END_HEADERS, 0, raw_block(c.req())))


@case("6.2/4", "Sends a HEADERS frame with a pad length not less than the payload",
      "Padding as long as the frame payload or longer MUST be a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.2/4")
def _(c):
    block = raw_block(c.req())
    payload = bytes([len(block) + 2]) + block
    c.send(raw_frame(HEADERS, F_PADDED | F_END_HEADERS | F_END_STREAM, 1, payload))
    c.max_stream_opened = 1


# 6.3 PRIORITY

@case("6.3/1", "Sends a PRIORITY frame on stream 0",
      "A PRIORITY frame with stream identifier 0 MUST be a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.3/1")
def _(c):
    c.send(raw_frame(PRIORITY, 0, 0, b"\0\0\0\0\xff"))


@case("6.3/2", "Sends a PRIORITY frame of 4 octets",
      "A PRIORITY frame with a length other than 5 octets MUST be a stream error of type "
      "FRAME_SIZE_ERROR.", StreamErr(1, FRAME_SIZE_ERROR), h2spec="http2/6.3/2")
def _(c):
    c.send(c.headers(1, c.req()), raw_frame(PRIORITY, 0, 1, b"\x80\0\0\x01"))


@case("6.3/3", "Sends a PRIORITY frame on an idle stream, then opens it",
      "A PRIORITY frame can be sent on a stream in any state, including idle.", Response(1))
def _(c):
    c.send(c.priority(1, weight=16), c.headers(1, c.req()))


@case("6.3/4", "Sends a PRIORITY frame on a closed stream",
      "A PRIORITY frame can be sent on a stream in any state, including closed.",
      PingAck(b"closedpr"))
def _(c):
    c.send(c.headers(1, c.req()))
    c.wait_response(1)
    c.send(c.priority(1), c.ping(b"closedpr"))


# 6.4 RST_STREAM

@case("6.4/1", "Sends a RST_STREAM frame on stream 0",
      "A RST_STREAM with stream identifier 0 MUST be a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.4/1")
def _(c):
    c.send(c.rst(0, CANCEL))


@case("6.4/2", "Sends a RST_STREAM frame on an idle stream",
      "A RST_STREAM identifying an idle stream MUST be a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.4/2")
def _(c):
    c.send(c.rst(1, CANCEL))


@case("6.4/3", "Sends a RST_STREAM frame of 3 octets",
      "A RST_STREAM frame with a length other than 4 octets MUST be a connection error of type "
      "FRAME_SIZE_ERROR.", ConnErr(FRAME_SIZE_ERROR), h2spec="http2/6.4/3")
def _(c):
    c.send(c.headers(1, c.req()), raw_frame(RST_STREAM, 0, 1, b"\0\0\0"))


# 6.5 SETTINGS

@case("6.5/1", "Sends a SETTINGS frame with ACK and a payload",
      "A SETTINGS frame with ACK and a length other than 0 MUST be a connection error of type "
      "FRAME_SIZE_ERROR.", ConnErr(FRAME_SIZE_ERROR), h2spec="http2/6.5/1")
def _(c):
    c.send(raw_frame(SETTINGS, F_ACK, 0, b"\0"))


@case("6.5/2", "Sends a SETTINGS frame on stream 1",
      "A SETTINGS frame with a stream identifier other than 0 MUST be a connection error of "
      "type PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.5/2")
def _(c):
    c.send(raw_frame(SETTINGS, 0, 1, b"\x00\x03\x00\x00\x00\x64"))


@case("6.5/3", "Sends a SETTINGS frame of 3 octets",
      "A SETTINGS frame with a length other than a multiple of 6 octets MUST be a connection "
      "error of type FRAME_SIZE_ERROR.", ConnErr(FRAME_SIZE_ERROR, PROTOCOL_ERROR),
      h2spec="http2/6.5/3")
def _(c):
    c.send(raw_frame(SETTINGS, 0, 0, b"\x00\x03\x00"))


# 6.5.2 Defined settings

@case("6.5.2/1", "SETTINGS_ENABLE_PUSH of 2",
      "Any SETTINGS_ENABLE_PUSH value other than 0 or 1 MUST be a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.5.2/1")
def _(c):
    c.send(c.settings([(ENABLE_PUSH, 2)]))


@case("6.5.2/2", "SETTINGS_INITIAL_WINDOW_SIZE of 2^31",
      "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 MUST be a connection error of type "
      "FLOW_CONTROL_ERROR.", ConnErr(FLOW_CONTROL_ERROR), h2spec="http2/6.5.2/2")
def _(c):
    c.send(c.settings([(INITIAL_WINDOW_SIZE, 2 ** 31)]))


@case("6.5.2/3", "SETTINGS_MAX_FRAME_SIZE of 16383",
      "SETTINGS_MAX_FRAME_SIZE outside 2^14..2^24-1 MUST be a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.5.2/3")
def _(c):
    c.send(c.settings([(MAX_FRAME_SIZE, 16383)]))


@case("6.5.2/4", "SETTINGS_MAX_FRAME_SIZE of 2^24",
      "SETTINGS_MAX_FRAME_SIZE outside 2^14..2^24-1 MUST be a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.5.2/4")
def _(c):
    c.send(c.settings([(MAX_FRAME_SIZE, 2 ** 24)]))


@case("6.5.2/5", "Sends a SETTINGS frame with an unknown identifier",
      "An endpoint that receives a SETTINGS frame with an unknown identifier MUST ignore that "
      "setting.", PingAck(b"unknown!"), h2spec="http2/6.5.2/5")
def _(c):
    c.send(c.settings([(0xFF, 1)]), c.ping(b"unknown!"))
    c.wait_settings_ack()


# 6.5.3 Settings synchronization

@case("6.5.3/1", "Sends two values of SETTINGS_INITIAL_WINDOW_SIZE in one frame",
      "The values in a SETTINGS frame MUST be processed in the order they appear (100, then "
      "1: the window is 1).", DataLen(1, 1), h2spec="http2/6.5.3/1")
def _(c):
    c.send(c.settings([(INITIAL_WINDOW_SIZE, 100), (INITIAL_WINDOW_SIZE, 1)]))
    c.wait_settings_ack()
    c.send(c.headers(1, c.req()))


@case("6.5.3/2", "Sends a SETTINGS frame without ACK",
      "Once all values have been processed, the recipient MUST immediately emit a SETTINGS "
      "frame with the ACK flag.", SettingsAck(), h2spec="http2/6.5.3/2")
def _(c):
    c.send(c.settings([(ENABLE_PUSH, 0)]))


# 6.7 PING

@case("6.7/1", "Sends a PING frame",
      "Receivers of a PING without ACK MUST send a PING with ACK and an identical payload.",
      PingAck(b"h2spec\0\0"), h2spec="http2/6.7/1")
def _(c):
    c.send(c.ping(b"h2spec\0\0"))


@case("6.7/2", "Sends a PING frame with ACK",
      "An endpoint MUST NOT respond to PING frames with the ACK flag.", PingAck(b"h2spec\0\0"),
      h2spec="http2/6.7/2")
def _(c):
    c.send(c.ping(b"invalid\0", ack=True), c.ping(b"h2spec\0\0"))


@case("6.7/3", "Sends a PING frame on stream 1",
      "A PING with a stream identifier other than 0 MUST be a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.7/3")
def _(c):
    c.send(raw_frame(PING, 0, 1, b"\0" * 8))


@case("6.7/4", "Sends a PING frame of 6 octets",
      "A PING with a length other than 8 MUST be a connection error of type FRAME_SIZE_ERROR.",
      ConnErr(FRAME_SIZE_ERROR), h2spec="http2/6.7/4")
def _(c):
    c.send(raw_frame(PING, 0, 0, b"\0" * 6))


# 6.8 GOAWAY

@case("6.8/1", "Sends a GOAWAY frame on stream 1",
      "A GOAWAY with a stream identifier other than 0 MUST be a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.8/1")
def _(c):
    c.send(raw_frame(GOAWAY, 0, 1, b"\0" * 8))


# 6.9 WINDOW_UPDATE

@case("6.9/1", "Sends a WINDOW_UPDATE of 0 on the connection",
      "A WINDOW_UPDATE increment of 0 MUST be an error of type PROTOCOL_ERROR; on the "
      "connection, a connection error.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.9/1")
def _(c):
    c.send(c.window_update(0, 0))


@case("6.9/2", "Sends a WINDOW_UPDATE of 0 on a stream",
      "A WINDOW_UPDATE increment of 0 on a stream MUST be a stream error of type "
      "PROTOCOL_ERROR.", StreamErr(1, PROTOCOL_ERROR), h2spec="http2/6.9/2")
def _(c):
    c.send(c.headers(1, c.req(), end_stream=False), c.window_update(1, 0))


@case("6.9/3", "Sends a WINDOW_UPDATE frame of 3 octets",
      "A WINDOW_UPDATE with a length other than 4 octets MUST be a connection error of type "
      "FRAME_SIZE_ERROR.", ConnErr(FRAME_SIZE_ERROR), h2spec="http2/6.9/3")
def _(c):
    c.send(raw_frame(WINDOW_UPDATE, 0, 0, b"\0\0\x01"))


# 6.9.1 The flow-control window

@case("6.9.1/1", "SETTINGS_INITIAL_WINDOW_SIZE of 1, then a request",
      "The sender MUST NOT send a flow-controlled frame longer than the space available in the "
      "window.", DataLen(1, 1), h2spec="http2/6.9.1/1")
def _(c):
    c.send(c.settings([(INITIAL_WINDOW_SIZE, 1)]))
    c.wait_settings_ack()
    c.send(c.headers(1, c.req()))


@case("6.9.1/2", "WINDOW_UPDATEs taking the connection window above 2^31-1",
      "A WINDOW_UPDATE that makes the connection window exceed 2^31-1: GOAWAY with "
      "FLOW_CONTROL_ERROR.", ConnErr(FLOW_CONTROL_ERROR), h2spec="http2/6.9.1/2")
def _(c):
    c.send(c.window_update(0, MAX_WINDOW), c.window_update(0, MAX_WINDOW))


@case("6.9.1/3", "WINDOW_UPDATEs taking a stream window above 2^31-1",
      "A WINDOW_UPDATE that makes a stream window exceed 2^31-1: RST_STREAM with "
      "FLOW_CONTROL_ERROR.", StreamErr(1, FLOW_CONTROL_ERROR), h2spec="http2/6.9.1/3")
def _(c):
    c.send(c.headers(1, c.req(), end_stream=False), c.window_update(1, MAX_WINDOW),
           c.window_update(1, MAX_WINDOW))


# 6.9.2 Initial flow-control window size

@case("6.9.2/1", "Changes SETTINGS_INITIAL_WINDOW_SIZE from 0 to 1 after a request",
      "When SETTINGS_INITIAL_WINDOW_SIZE changes, a receiver MUST adjust all stream windows by "
      "the difference.", DataLen(1, 1), h2spec="http2/6.9.2/1")
def _(c):
    c.send(c.settings([(INITIAL_WINDOW_SIZE, 0)]))
    c.wait_settings_ack()
    c.send(c.headers(1, c.req()))
    c.send(c.settings([(INITIAL_WINDOW_SIZE, 1)]))


@case("6.9.2/2", "A SETTINGS change that makes a stream window negative",
      "A sender MUST track a negative flow-control window and send only once WINDOW_UPDATE "
      "makes it positive.", Custom("DATA of 2 octets, then none until a WINDOW_UPDATE of 2 "
                                   "after the window went to -1, then DATA of 1 octet"),
      h2spec="http2/6.9.2/2")
def _(c):
    c.send(c.settings([(INITIAL_WINDOW_SIZE, 2)]))
    c.wait_settings_ack()
    c.send(c.headers(1, c.req()))
    first = c.wait_data(1)
    if "END_STREAM" in first.flags:
        raise CaseSkip("the response body is shorter than 3 octets")
    if len(first.data) != 2:
        raise CaseFail("first DATA of %d octets, expected 2; %s" % (len(first.data),
                                                                   c.summary()))
    c.send(c.settings([(INITIAL_WINDOW_SIZE, 1)]))   # window 0 -> -1
    c.wait_settings_ack()
    c.send(c.window_update(1, 2))                     # window -1 -> 1
    second = c.wait_data(1)
    if len(second.data) != 1:
        raise CaseFail("DATA of %d octets after the window went -1 -> 1; %s"
                       % (len(second.data), c.summary()))


@case("6.9.2/3", "SETTINGS_INITIAL_WINDOW_SIZE of 2^31 (raw frame)",
      "A change to SETTINGS_INITIAL_WINDOW_SIZE that makes any window exceed the maximum MUST "
      "be a connection error of type FLOW_CONTROL_ERROR.", ConnErr(FLOW_CONTROL_ERROR),
      h2spec="http2/6.9.2/3")
def _(c):
    c.send(raw_frame(SETTINGS, 0, 0, b"\x00\x04\x80\x00\x00\x00"))


@case("6.9.2/4", "A zero initial window holds DATA until a WINDOW_UPDATE on the stream",
      "Prior to a WINDOW_UPDATE the sender MUST NOT send flow-controlled frames beyond the "
      "window (0); a WINDOW_UPDATE of 1 allows 1 octet.",
      Custom("response HEADERS, no DATA until WINDOW_UPDATE, then DATA of 1 octet"),
      settings=[(INITIAL_WINDOW_SIZE, 0)])
def _(c):
    c.send(c.headers(1, c.req()))
    c.wait_response_headers(1)
    c.send(c.ping(b"zerowind"))
    c.wait_for("PING ACK", lambda e: is_ping_ack(e, b"zerowind")
               or (isinstance(e, DataFrame) and e.stream_id == 1 and len(e.data) > 0))
    if any(item.startswith("DATA(s1") and not item.startswith("DATA(s1, 0 octets")
           for item in c.log):
        raise CaseFail("DATA sent with a zero window; %s" % c.summary())
    c.send(c.window_update(1, 1))
    frame = c.wait_data(1)
    if len(frame.data) != 1:
        raise CaseFail("DATA of %d octets after a WINDOW_UPDATE of 1; %s"
                       % (len(frame.data), c.summary()))


# 6.10 CONTINUATION

@case("6.10/1", "Sends multiple CONTINUATION frames after a HEADERS frame",
      "Any number of CONTINUATION frames can follow a HEADERS frame without END_HEADERS.",
      Response(1), h2spec="http2/6.10/1")
def _(c):
    c.send(c.headers(1, raw_block(c.req()), end_headers=False),
           c.cont(1, raw_block(dummy_headers(1)), end_headers=False),
           c.cont(1, raw_block([("x-dummy1", "x" * 4000)])))


@case("6.10/2", "Sends a CONTINUATION without END_HEADERS followed by a DATA frame",
      "A CONTINUATION without END_HEADERS followed by any other frame type MUST be a "
      "connection error of type PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR),
      h2spec="http2/6.10/2")
def _(c):
    c.send(c.headers(1, raw_block(c.req("POST")), end_stream=False, end_headers=False),
           c.cont(1, raw_block(dummy_headers(1)), end_headers=False),
           c.data(1, b"test", end_stream=True))


@case("6.10/3", "Sends a CONTINUATION frame on stream 0",
      "A CONTINUATION with stream identifier 0 MUST be a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.10/3")
def _(c):
    c.send(c.headers(1, raw_block(c.req()), end_headers=False),
           c.cont(0, raw_block(dummy_headers(1))))


@case("6.10/4", "Sends a CONTINUATION after a HEADERS frame with END_HEADERS",
      "A CONTINUATION MUST be preceded by a HEADERS, PUSH_PROMISE or CONTINUATION without "
      "END_HEADERS: otherwise a connection error of type PROTOCOL_ERROR.",
      ConnErr(PROTOCOL_ERROR), h2spec="http2/6.10/4")
def _(c):
    c.send(c.headers(1, raw_block(c.req())), c.cont(1, raw_block(dummy_headers(1))))


@case("6.10/5", "Sends a CONTINUATION after a CONTINUATION with END_HEADERS",
      "A CONTINUATION MUST be preceded by a frame without END_HEADERS: otherwise a connection "
      "error of type PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/6.10/5")
def _(c):
    c.send(c.headers(1, raw_block(c.req()), end_headers=False),
           c.cont(1, raw_block(dummy_headers(1))), c.cont(1, raw_block(dummy_headers(1))))


@case("6.10/6", "Sends a DATA frame between a HEADERS frame and its CONTINUATION",
      "A CONTINUATION MUST be preceded by a HEADERS or CONTINUATION without END_HEADERS: "
      "otherwise a connection error of type PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR),
      h2spec="http2/6.10/6")
def _(c):
    c.send(c.headers(1, raw_block(c.req("POST")), end_stream=False, end_headers=False),
           c.data(1, b"test", end_stream=True), c.cont(1, raw_block(dummy_headers(1))))


@case("6.10/7", "Sends the CONTINUATION of a stream-1 header block on stream 3",
      "A frame on a different stream after a frame without END_HEADERS MUST be a connection "
      "error of type PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR))
def _(c):
    c.send(c.headers(1, raw_block(c.req()), end_headers=False),
           c.cont(3, raw_block(dummy_headers(1))))


# 7 Error codes

@case("7/1", "Sends a GOAWAY frame with an unknown error code",
      "Unknown or unsupported error codes MUST NOT trigger any special behavior.",
      PingAck(b"h2spec\0\0", close_ok=True), h2spec="http2/7/1")
def _(c):
    c.send(c.goaway(0, 0xFF), c.ping(b"h2spec\0\0"))


@case("7/2", "Sends a RST_STREAM frame with an unknown error code",
      "Unknown or unsupported error codes MUST NOT trigger any special behavior.",
      PingAck(b"unknownc", close_ok=True), h2spec="http2/7/2")
def _(c):
    c.send(c.headers(1, c.req("POST"), end_stream=False), c.rst(1, 0xFF), c.ping(b"unknownc"))


# 8.1 HTTP message framing

@case("8.1/1", "Sends a second HEADERS frame without END_STREAM",
      "A HEADERS frame without END_STREAM after the one that opened a request makes it "
      "malformed: a stream error of type PROTOCOL_ERROR.", StreamErr(1, PROTOCOL_ERROR),
      h2spec="http2/8.1/1")
def _(c):
    c.send(c.headers(1, c.req("POST"), end_stream=False), c.data(1, b"test"),
           c.headers(1, [("x-test", "ok")], end_stream=False))


@case("8.1/2", "Sends a POST request with trailers",
      "Trailer fields are carried in a field block that also terminates the stream.",
      Response(1), h2spec="generic/4/4")
def _(c):
    c.send(c.headers(1, c.req("POST", extra=[("trailer", "x-test")]), end_stream=False),
           c.data(1, b"test"), c.headers(1, [("x-test", "ok")]))


# 8.1.1 Malformed messages (h2spec 8.1.2.6)

@case("8.1.1/1", "content-length that does not equal the DATA payload length",
      "A request whose content-length differs from the sum of its DATA payloads is malformed: "
      "a stream error of type PROTOCOL_ERROR.", StreamErr(1, PROTOCOL_ERROR),
      h2spec="http2/8.1.2.6/1")
def _(c):
    c.send(c.headers(1, c.req("POST", extra=[("content-length", "1")]), end_stream=False),
           c.data(1, b"test", end_stream=True))


@case("8.1.1/2", "content-length that does not equal the sum of several DATA frames",
      "A request whose content-length differs from the sum of its DATA payloads is malformed: "
      "a stream error of type PROTOCOL_ERROR.", StreamErr(1, PROTOCOL_ERROR),
      h2spec="http2/8.1.2.6/2")
def _(c):
    c.send(c.headers(1, c.req("POST", extra=[("content-length", "1")]), end_stream=False),
           c.data(1, b"test"), c.data(1, b"test", end_stream=True))


# 8.2.1 Field validity (h2spec 8.1.2)

@case("8.2.1/1", "A field name in uppercase",
      "A field name MUST NOT contain uppercase characters: malformed, a stream error of type "
      "PROTOCOL_ERROR.", StreamErr(1, PROTOCOL_ERROR, answer_400=True), h2spec="http2/8.1.2/1")
def _(c):
    c.send(c.headers(1, raw_block(c.req(extra=[("X-TEST", "ok")]))))


@case("8.2.1/2", "A field value containing CR LF",
      "A field value MUST NOT contain NUL, LF or CR: malformed, a stream error of type "
      "PROTOCOL_ERROR.", StreamErr(1, PROTOCOL_ERROR, answer_400=True))
def _(c):
    c.send(c.headers(1, raw_block(c.req(extra=[("x-test", "a\r\nx-injected: 1")]))))


@case("8.2.1/3", "A regular field name containing a colon",
      "Field names other than pseudo-headers MUST NOT include a colon: malformed, a stream "
      "error of type PROTOCOL_ERROR.", StreamErr(1, PROTOCOL_ERROR, answer_400=True))
def _(c):
    c.send(c.headers(1, raw_block(c.req(extra=[("x:test", "ok")]))))


# 8.2.2 Connection-specific header fields (h2spec 8.1.2.2)

@case("8.2.2/1", "A connection-specific field (connection)",
      "A message containing connection-specific header fields MUST be treated as malformed: a "
      "stream error of type PROTOCOL_ERROR.", StreamErr(1, PROTOCOL_ERROR),
      h2spec="http2/8.1.2.2/1")
def _(c):
    c.send(c.headers(1, c.req(extra=[("connection", "keep-alive")])))


@case("8.2.2/2", "A TE field other than \"trailers\"",
      "TE MAY be present in a request but MUST NOT contain any value other than \"trailers\".",
      StreamErr(1, PROTOCOL_ERROR), h2spec="http2/8.1.2.2/2")
def _(c):
    c.send(c.headers(1, c.req(extra=[("trailers", "test"), ("te", "trailers, deflate")])))


@case("8.2.2/3", "A connection-specific field (transfer-encoding)",
      "Transfer-Encoding is connection-specific: the message MUST be treated as malformed.",
      StreamErr(1, PROTOCOL_ERROR))
def _(c):
    c.send(c.headers(1, c.req("POST", extra=[("transfer-encoding", "chunked")]),
                     end_stream=False), c.data(1, b"4\r\ntest\r\n0\r\n\r\n", end_stream=True))


@case("8.2.2/4", "TE: trailers is accepted",
      "The TE header field MAY be present in an HTTP/2 request with the value \"trailers\".",
      Response(1))
def _(c):
    c.send(c.headers(1, c.req(extra=[("te", "trailers")])))


# 8.3 HTTP control data (h2spec 8.1.2.1)

@case("8.3/1", "An unknown pseudo-header field",
      "A request that contains undefined pseudo-header fields is malformed: a stream error of "
      "type PROTOCOL_ERROR.", StreamErr(1, PROTOCOL_ERROR), h2spec="http2/8.1.2.1/1")
def _(c):
    c.send(c.headers(1, c.req(extra=[(":test", "ok")])))


@case("8.3/2", "A response pseudo-header field in a request",
      "Pseudo-header fields defined for responses MUST NOT appear in requests: malformed.",
      StreamErr(1, PROTOCOL_ERROR), h2spec="http2/8.1.2.1/2")
def _(c):
    c.send(c.headers(1, c.req(extra=[(":status", "200")])))


@case("8.3/3", "A pseudo-header field in trailers",
      "Pseudo-header fields MUST NOT appear in a trailer section: malformed.",
      StreamErr(1, PROTOCOL_ERROR), h2spec="http2/8.1.2.1/3")
def _(c):
    c.send(c.headers(1, c.req("POST"), end_stream=False), c.data(1, b"test"),
           c.headers(1, [(":method", "POST")]))


@case("8.3/4", "A pseudo-header field after a regular field",
      "All pseudo-header fields MUST appear before all regular field lines: malformed "
      "otherwise.", StreamErr(1, PROTOCOL_ERROR), h2spec="http2/8.1.2.1/4")
def _(c):
    c.send(c.headers(1, [("x-test", "ok")] + c.req()))


# 8.3.1 Request pseudo-header fields (h2spec 8.1.2.3)

def _request_without(c, name):
    return [field for field in c.req() if field[0] != name]


@case("8.3.1/1", "An empty :path",
      "The :path pseudo-header field MUST NOT be empty for http or https URIs.",
      StreamErr(1, PROTOCOL_ERROR), h2spec="http2/8.1.2.3/1")
def _(c):
    c.send(c.headers(1, c.req(path="")))


@case("8.3.1/2", "A request without :method",
      "All HTTP/2 requests MUST include exactly one valid :method, :scheme and :path.",
      StreamErr(1, PROTOCOL_ERROR), h2spec="http2/8.1.2.3/2")
def _(c):
    c.send(c.headers(1, _request_without(c, ":method")))


@case("8.3.1/3", "A request without :scheme",
      "All HTTP/2 requests MUST include exactly one valid :method, :scheme and :path.",
      StreamErr(1, PROTOCOL_ERROR), h2spec="http2/8.1.2.3/3")
def _(c):
    c.send(c.headers(1, _request_without(c, ":scheme")))


@case("8.3.1/4", "A request without :path",
      "All HTTP/2 requests MUST include exactly one valid :method, :scheme and :path.",
      StreamErr(1, PROTOCOL_ERROR), h2spec="http2/8.1.2.3/4")
def _(c):
    c.send(c.headers(1, _request_without(c, ":path")))


@case("8.3.1/5", "A request with two :method fields",
      "The same pseudo-header field name MUST NOT appear more than once in a field block.",
      StreamErr(1, PROTOCOL_ERROR), h2spec="http2/8.1.2.3/5")
def _(c):
    c.send(c.headers(1, c.req() + [(":method", "GET")]))


@case("8.3.1/6", "A request with two :scheme fields",
      "The same pseudo-header field name MUST NOT appear more than once in a field block.",
      StreamErr(1, PROTOCOL_ERROR), h2spec="http2/8.1.2.3/6")
def _(c):
    c.send(c.headers(1, c.req() + [(":scheme", "https" if c.opts.tls else "http")]))


@case("8.3.1/7", "A request with two :path fields",
      "The same pseudo-header field name MUST NOT appear more than once in a field block.",
      StreamErr(1, PROTOCOL_ERROR), h2spec="http2/8.1.2.3/7")
def _(c):
    c.send(c.headers(1, c.req() + [(":path", c.opts.path)]))


# 8.4 Server push

@case("8.4/1", "Sends a PUSH_PROMISE frame",
      "A client cannot push: a server MUST treat a PUSH_PROMISE as a connection error of type "
      "PROTOCOL_ERROR.", ConnErr(PROTOCOL_ERROR), h2spec="http2/8.2/1")
def _(c):
    c.send(c.headers(1, c.req(), end_stream=False),
           raw_frame(PUSH_PROMISE, F_END_HEADERS, 1, struct.pack(">L", 2) + raw_block(c.req())))


# RFC 7541 (HPACK)

def _hpack_case(c, tail, front=b""):
    c.send(c.headers(1, front + c.enc(c.req()) + tail))


@case("hpack/2.3.3/1", "An indexed field with an index past both tables",
      "RFC 7541 2.3.3: indices greater than the sum of both tables MUST be a decoding error "
      "(COMPRESSION_ERROR).", ConnErr(COMPRESSION_ERROR), h2spec="hpack/2.3.3/1")
def _(c):
    _hpack_case(c, hp_indexed(200))


@case("hpack/2.3.3/2", "A literal field whose name index is past both tables",
      "RFC 7541 2.3.3: indices greater than the sum of both tables MUST be a decoding error "
      "(COMPRESSION_ERROR).", ConnErr(COMPRESSION_ERROR), h2spec="hpack/2.3.3/2")
def _(c):
    _hpack_case(c, hp_literal(None, "", kind="incremental", name_index=200))


@case("hpack/4.2/1", "A dynamic table size update at the end of a header block",
      "RFC 7541 4.2: a dynamic table size update MUST occur at the beginning of a header block "
      "(COMPRESSION_ERROR).", ConnErr(COMPRESSION_ERROR), h2spec="hpack/4.2/1")
def _(c):
    _hpack_case(c, hp_size_update(1))


@case("hpack/5.2/1", "A Huffman string padded with more than 7 bits",
      "RFC 7541 5.2: padding strictly longer than 7 bits MUST be a decoding error.",
      ConnErr(COMPRESSION_ERROR), h2spec="hpack/5.2/1")
def _(c):
    _hpack_case(c, b"\x00\x85\xf2\xb2\x4a\x84\xff\x84\x49\x50\x9f\xff")


@case("hpack/5.2/2", "A Huffman string padded with zeros",
      "RFC 7541 5.2: padding not matching the most significant bits of EOS MUST be a decoding "
      "error.", ConnErr(COMPRESSION_ERROR), h2spec="hpack/5.2/2")
def _(c):
    _hpack_case(c, b"\x00\x85\xf2\xb2\x4a\x84\xff\x83\x49\x50\x90")


@case("hpack/5.2/3", "A Huffman string containing the EOS symbol",
      "RFC 7541 5.2: a Huffman-encoded string literal containing EOS MUST be a decoding error.",
      ConnErr(COMPRESSION_ERROR), h2spec="hpack/5.2/3")
def _(c):
    _hpack_case(c, b"\x00\x85\xf2\xb2\x4a\x84\xff\x87\x49\x51\xff\xff\xff\xfa\x7f")


@case("hpack/6.1/1", "An indexed field with index 0",
      "RFC 7541 6.1: the index value of 0 MUST be treated as a decoding error.",
      ConnErr(COMPRESSION_ERROR), h2spec="hpack/6.1/1")
def _(c):
    _hpack_case(c, hp_indexed(0))


@case("hpack/6.3/1", "A dynamic table size update above SETTINGS_HEADER_TABLE_SIZE",
      "RFC 7541 6.3: a new maximum size above the SETTINGS_HEADER_TABLE_SIZE limit MUST be a "
      "decoding error.", ConnErr(COMPRESSION_ERROR), h2spec="hpack/6.3/1")
def _(c):
    limit = c.server_settings.get(HEADER_TABLE_SIZE, 4096)
    _hpack_case(c, b"", front=hp_size_update(limit + 1))


# Generic: each frame type, valid, on a valid stream (h2spec "generic")

@case("generic/1/1", "Sends a client connection preface",
      "The server answers the preface with its SETTINGS and acknowledges the client's.",
      SettingsAck(), h2spec="generic/1/1")
def _(c):
    pass


@case("generic/2/1", "Sends a PRIORITY frame on an idle stream",
      "PRIORITY can be sent on a stream in any state.", PingAck(), h2spec="generic/2/1")
def _(c):
    c.send(c.priority(1), c.ping())


@case("generic/2/2", "Sends a WINDOW_UPDATE on a half-closed (remote) stream",
      "WINDOW_UPDATE is allowed on a half-closed (remote) stream and lets DATA flow.",
      DataLen(1, 1), settings=[(INITIAL_WINDOW_SIZE, 0)], h2spec="generic/2/2")
def _(c):
    c.send(c.headers(1, c.req()), c.window_update(1, 1))


@case("generic/2/3", "Sends a PRIORITY on a half-closed (remote) stream",
      "PRIORITY is allowed on a half-closed (remote) stream.", DataLen(1, 1),
      settings=[(INITIAL_WINDOW_SIZE, 0)], h2spec="generic/2/3")
def _(c):
    c.send(c.headers(1, c.req()), c.priority(1), c.window_update(1, 1))


@case("generic/2/4", "Sends a RST_STREAM on a half-closed (remote) stream",
      "RST_STREAM is allowed on a half-closed (remote) stream.",
      PingAck(close_ok=True), h2spec="generic/2/4")
def _(c):
    c.send(c.headers(1, c.req()), c.rst(1, CANCEL), c.ping())


@case("generic/2/5", "Sends a PRIORITY on a closed stream",
      "PRIORITY can be sent on a closed stream.", PingAck(), h2spec="generic/2/5")
def _(c):
    c.send(c.headers(1, c.req()))
    c.wait_response(1)
    c.send(c.priority(1), c.ping())


@case("generic/3.1/1", "Sends a DATA frame", "A request body in one DATA frame.",
      Response(1), h2spec="generic/3.1/1")
def _(c):
    c.send(c.headers(1, c.req("POST"), end_stream=False), c.data(1, b"test", end_stream=True))


@case("generic/3.1/2", "Sends several DATA frames", "A request body in two DATA frames.",
      Response(1), h2spec="generic/3.1/2")
def _(c):
    c.send(c.headers(1, c.req("POST"), end_stream=False), c.data(1, b"test"),
           c.data(1, b"test", end_stream=True))


@case("generic/3.1/3", "Sends a DATA frame with padding", "A padded DATA frame.",
      Response(1), h2spec="generic/3.1/3")
def _(c):
    c.send(c.headers(1, c.req("POST"), end_stream=False),
           c.data(1, b"test", end_stream=True, pad=5))


@case("generic/3.2/1", "Sends a HEADERS frame", "A request in one HEADERS frame.",
      Response(1), h2spec="generic/3.2/1")
def _(c):
    c.send(c.headers(1, c.req()))


@case("generic/3.2/2", "Sends a HEADERS frame with padding", "A padded HEADERS frame.",
      Response(1), h2spec="generic/3.2/2")
def _(c):
    c.send(c.headers(1, c.req(), pad=8))


@case("generic/3.2/3", "Sends a HEADERS frame with priority", "HEADERS with the PRIORITY flag.",
      Response(1), h2spec="generic/3.2/3")
def _(c):
    c.send(c.headers(1, c.req(), priority=(0, 255, False)))


@case("generic/3.3/1", "Sends a PRIORITY frame with weight 1", "PRIORITY, then the request.",
      Response(1), h2spec="generic/3.3/1")
def _(c):
    c.send(c.priority(1, weight=0), c.headers(1, c.req()))


@case("generic/3.3/2", "Sends a PRIORITY frame with weight 256", "PRIORITY, then the request.",
      Response(1), h2spec="generic/3.3/2")
def _(c):
    c.send(c.priority(1, weight=255), c.headers(1, c.req()))


@case("generic/3.3/3", "Sends a PRIORITY frame with a stream dependency",
      "PRIORITY on stream 3 depending on stream 1.", Response(1), h2spec="generic/3.3/3")
def _(c):
    c.send(c.priority(3, depends_on=1, weight=0), c.headers(1, c.req()))


@case("generic/3.3/4", "Sends a PRIORITY frame with the exclusive flag",
      "PRIORITY with E set, then the request.", Response(1), h2spec="generic/3.3/4")
def _(c):
    c.send(c.priority(1, weight=0, exclusive=True), c.headers(1, c.req()))


@case("generic/3.3/5", "Sends a PRIORITY frame on idle stream 3, then HEADERS on stream 1",
      "A PRIORITY on an idle stream does not open it; a lower stream can still be opened.",
      Response(1), h2spec="generic/3.3/5")
def _(c):
    c.send(c.priority(3), c.headers(1, c.req()))


@case("generic/3.4/1", "Sends a RST_STREAM frame", "RST_STREAM on an open stream.",
      PingAck(close_ok=True), h2spec="generic/3.4/1")
def _(c):
    c.send(c.headers(1, c.req(), end_stream=False), c.rst(1, CANCEL), c.ping())


@case("generic/3.5/1", "Sends a SETTINGS frame with every defined setting",
      "All defined settings, with valid values.", SettingsAck(), h2spec="generic/3.5/1")
def _(c):
    c.send(c.settings([(HEADER_TABLE_SIZE, 4096), (ENABLE_PUSH, 0),
                       (MAX_CONCURRENT_STREAMS, 100), (INITIAL_WINDOW_SIZE, 65535),
                       (MAX_FRAME_SIZE, 16384), (MAX_HEADER_LIST_SIZE, 100000)]))


@case("generic/3.7/1", "Sends a PING frame", "PING is answered with an ACK.",
      PingAck(b"h2spec\0\0"), h2spec="generic/3.7/1")
def _(c):
    c.send(c.ping(b"h2spec\0\0"))


@case("generic/3.8/1", "Sends a GOAWAY frame", "A GOAWAY from the client (NO_ERROR).",
      PingAck(b"h2spec\0\0", close_ok=True), h2spec="generic/3.8/1")
def _(c):
    c.send(c.goaway(0, NO_ERROR, b"h2spec"), c.ping(b"h2spec\0\0"))


@case("generic/3.9/1", "Sends a WINDOW_UPDATE on the connection",
      "WINDOW_UPDATE on stream 0.", PingAck(), h2spec="generic/3.9/1")
def _(c):
    c.send(c.window_update(0, 1), c.ping())


@case("generic/3.9/2", "Sends a WINDOW_UPDATE on a stream", "WINDOW_UPDATE on stream 1.",
      Response(1), h2spec="generic/3.9/2")
def _(c):
    c.send(c.headers(1, c.req()), c.window_update(1, 1))


@case("generic/3.10/1", "Sends a CONTINUATION frame", "A header block split in two frames.",
      Response(1), h2spec="generic/3.10/1")
def _(c):
    block = c.enc(c.req())
    c.send(c.headers(1, block[:5], end_headers=False), c.cont(1, block[5:]))


@case("generic/3.10/2", "Sends several CONTINUATION frames",
      "A header block split in three frames.", Response(1), h2spec="generic/3.10/2")
def _(c):
    block = c.enc(c.req())
    c.send(c.headers(1, block[:5], end_headers=False), c.cont(1, block[5:10], False),
           c.cont(1, block[10:]))


@case("generic/4/1", "Sends a GET request", "A GET request.", Response(1),
      h2spec="generic/4/1")
def _(c):
    c.send(c.headers(1, c.req()))


@case("generic/4/2", "Sends a HEAD request", "A HEAD request.", Response(1),
      h2spec="generic/4/2")
def _(c):
    c.send(c.headers(1, c.req("HEAD")))


@case("generic/4/3", "Sends a POST request", "A POST request with a body.", Response(1),
      h2spec="generic/4/3")
def _(c):
    c.send(c.headers(1, c.req("POST"), end_stream=False), c.data(1, b"test", end_stream=True))


@case("generic/4/4", "Sends a POST request with trailers",
      "Trailer fields are carried in a field block that also terminates the stream.",
      Response(1), h2spec="generic/4/4")
def _(c):
    c.send(c.headers(1, c.req("POST", extra=[("trailer", "x-test")]), end_stream=False),
           c.data(1, b"test"), c.headers(1, [("x-test", "ok")]))


@case("generic/4/5", "Sends two requests on one connection",
      "Streams 1 and 3, one after the other, on the same connection and HPACK context.",
      Response(3))
def _(c):
    c.send(c.headers(1, c.req()))
    c.wait_response(1)
    c.send(c.headers(3, c.req()))


HPACK_REPRESENTATIONS = [
    ("an indexed field", hp_indexed(58)),   # user-agent with an empty value
    ("a literal with incremental indexing, indexed name",
     hp_literal(None, "h2spec", "incremental", 58)),
    ("a literal with incremental indexing, indexed name, Huffman",
     hp_literal(None, "h2spec", "incremental", 58, True)),
    ("a literal with incremental indexing, new name", hp_literal("x-test", "h2spec",
                                                                  "incremental")),
    ("a literal with incremental indexing, new name, Huffman",
     hp_literal("x-test", "h2spec", "incremental", None, True)),
    ("a literal without indexing, indexed name", hp_literal(None, "h2spec", "without", 58)),
    ("a literal without indexing, indexed name, Huffman",
     hp_literal(None, "h2spec", "without", 58, True)),
    ("a literal without indexing, new name", hp_literal("x-test", "h2spec", "without")),
    ("a literal without indexing, new name, Huffman",
     hp_literal("x-test", "h2spec", "without", None, True)),
    ("a literal never indexed, indexed name", hp_literal(None, "h2spec", "never", 58)),
    ("a literal never indexed, indexed name, Huffman",
     hp_literal(None, "h2spec", "never", 58, True)),
    ("a literal never indexed, new name", hp_literal("x-test", "h2spec", "never")),
    ("a literal never indexed, new name, Huffman",
     hp_literal("x-test", "h2spec", "never", None, True)),
]


def _register_hpack_representations():
    for number, (text, rep) in enumerate(HPACK_REPRESENTATIONS, 1):
        def run(c, rep=rep):
            _hpack_case(c, rep)
        case("generic/5/%d" % number, "Sends %s" % text,
             "RFC 7541 6: the decoder MUST accept every representation.", Response(1),
             h2spec="generic/5/%d" % number)(run)


_register_hpack_representations()


@case("generic/5/14", "Sends a dynamic table size update",
      "RFC 7541 6.3: a size update at the start of a block, within the limit.", Response(1),
      h2spec="generic/5/14")
def _(c):
    _hpack_case(c, b"", front=hp_size_update(c.server_settings.get(HEADER_TABLE_SIZE, 4096)))


@case("generic/5/15", "Sends two dynamic table size updates",
      "RFC 7541 4.2: several size updates may start a block.", Response(1),
      h2spec="generic/5/15")
def _(c):
    limit = c.server_settings.get(HEADER_TABLE_SIZE, 4096)
    _hpack_case(c, b"", front=hp_size_update(min(128, limit)) + hp_size_update(limit))


# ---------------------------------------------------------------------------------------------
# Runner


def select(patterns):
    if not patterns:
        return list(CASES)
    chosen = []
    for entry in CASES:
        section = entry.id.rsplit("/", 1)[0]
        if any(fnmatch.fnmatchcase(entry.id, p) or fnmatch.fnmatchcase(section, p)
               for p in patterns):
            chosen.append(entry)
    return chosen


def run_case(entry, opts):
    deadline = time.monotonic() + opts.timeout
    conn = Conn(opts, deadline)
    expect = entry.expect
    try:
        conn.connect()
        if entry.handshake:
            conn.handshake(entry.settings)
        returned = entry.fn(conn)
        if isinstance(returned, Expect):
            expect = returned
        passed, note = expect.verify(conn)
        status = "PASS" if passed else "FAIL"
        seen = ("%s: " % note if note else "") + conn.summary()
    except CaseSkip as skip:
        status, seen = "SKIP", str(skip)
    except CaseFail as failure:
        status, seen = "FAIL", str(failure)
    except (OSError, ssl.SSLError) as error:
        status, seen = "FAIL", "connection failed: %s" % error
    finally:
        conn.close()
    return {"id": entry.id, "description": entry.description, "passed": status != "FAIL",
            "skipped": status == "SKIP", "expected": str(expect), "seen": seen,
            "requirement": entry.requirement, "h2spec": entry.h2spec, "status": status}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Raw-frame HTTP/2 conformance suite "
                                     "(RFC 9113, RFC 7541), after h2spec.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=False, default=None)
    parser.add_argument("--tls", action="store_true",
                        help="TLS with ALPN h2 (the certificate is not verified)")
    parser.add_argument("--sni", default="localhost", help="TLS server name (default localhost)")
    parser.add_argument("--authority", default="localhost",
                        help=":authority of the requests (default localhost)")
    parser.add_argument("--path", default="/",
                        help=":path of the requests (default /); a route that reads the "
                             "request body before answering makes the body cases conclusive")
    parser.add_argument("--case", nargs="+", action="extend", default=[], metavar="ID",
                        help="case ids or sections to run, shell patterns allowed "
                             "(6.5.3/2, 6.5, 'hpack/*')")
    parser.add_argument("--timeout", type=float, default=3.0,
                        help="per-case timeout in seconds (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--lenient", action="store_true",
                        help="h2spec's verdicts: a GOAWAY or RST_STREAM with the code, or a "
                             "close, passes an error case")
    parser.add_argument("--allow-escalation", action="store_true",
                        help="a connection error with the expected code passes a stream-error "
                             "case (RFC 9113 5.4.1 lets an endpoint treat a stream error as a "
                             "connection error); by default it must be an RST_STREAM")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="trace frames on standard error")
    opts = parser.parse_args(argv)
    Expect.lenient = opts.lenient
    StreamErr.strict = not opts.allow_escalation

    cases = select(opts.case)
    if opts.list:
        for entry in cases:
            print("%-16s %-14s %s -- expects %s" % (entry.id, entry.h2spec or "-",
                                                    entry.description, entry.expect))
        return 0
    if opts.port is None:
        parser.error("--port is required")
    if not cases:
        parser.error("no case matches %s" % " ".join(opts.case))

    results = []
    for entry in cases:
        if opts.verbose:
            sys.stderr.write("%s %s\n" % (entry.id, entry.description))
        result = run_case(entry, opts)
        results.append(result)
        if not opts.json:
            print("%s %s %s -- %s" % (result["status"], result["id"], result["description"],
                                      result["seen"]))
            sys.stdout.flush()
    failed = [r for r in results if not r["passed"]]
    if opts.json:
        print(json.dumps({"cases": results}, indent=1))
    else:
        skipped = sum(1 for r in results if r["skipped"])
        print("%d cases: %d passed, %d failed, %d skipped" % (
            len(results), len(results) - len(failed) - skipped, len(failed), skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
