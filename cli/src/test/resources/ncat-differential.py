#!/usr/bin/env python3
"""Differential harness: `jsock connect`/`jsock listen` next to Ncat in the same scenarios.

Opt-in, not part of any test tier: run it by hand from the repository root, after a build
(`mvn -B -q -o -DskipTests -DskipITs package -pl core,cli`):

    python3 cli/src/test/resources/ncat-differential.py [SEED [COUNT [WORKERS]]]

Each scenario (drawn from the seed) puts one tool (`./jsock`, or JSOCK; and `ncat`) in a role
against the same small Python peer on 127.0.0.1 or an AF_UNIX path in a temporary directory:

  role       connect (the peer is a server) or listen (the peer is a client), or listen -k with
             two clients in sequence
  transport  TCP, AF_UNIX (-U) or UDP (-u); half of the TCP scenarios are TLS over TCP (jsock
             --tls, ncat --ssl) with a certificate made for the run by openssl, its CA's
             verified by the tools in connect (--ca; ncat --ssl-verify --ssl-trustfile, to
             "localhost") or not (--insecure; ncat --ssl alone), by the peer in listen
  stdin      0, 1, 4 KiB or 1 MiB of bytes with NULs and \\r\\n; ends at once or 1 s late
  peer       read-reply (reads to end of file, answers, closes), reply-first (answers,
             half-closes, reads to end of file), reply-close (answers and closes, reading
             nothing), reset (answers, then SO_LINGER 0 and close), both (reads and answers at
             once, half-closes, reads to end of file)
  flags      none, --no-shutdown, --send-only, --recv-only

and compares what each side received (length + sha256), whether the peer saw end of file, a
reset or neither (over TLS: "eof" is a close_notify, "eof without close_notify" a bare end
of the TCP stream), and success against failure of the tool (0 or not: Ncat exits 1 for most failures,
2 for some; jsock's code is printed). Every tool run and every peer wait is bounded (10 s). Differences documented in
README.md and docs/cli/connect-listen.md are filtered (and counted); the rest are printed, one
line per scenario, with the seed that reproduces it. A filter explains an ending only, never
data: it applies only when what every client received is a part of stdin as sent, and each one
says which digests must still be equal.
"""
import hashlib, os, random, shutil, socket, ssl, struct, subprocess, sys, tempfile, threading, time
from concurrent.futures import ThreadPoolExecutor

JSOCK = os.environ.get("JSOCK", "./jsock").split()
NCAT = ["ncat"]
BOUND = 10.0


def payload(n, salt):
    unit = bytes([0, 13, 10]) + salt.encode() + bytes(range(256))
    return (unit * (n // len(unit) + 1))[:n]


def digest(b):
    return "%d:%s" % (len(b), hashlib.sha256(b).hexdigest()[:10])


def read_all(c, limit=BOUND):
    """Reads to end of file: (bytes, ending) with ending eof, reset or timeout."""
    c.settimeout(limit)
    got = bytearray()
    try:
        while True:
            b = c.recv(65536)
            if not b:
                return bytes(got), getattr(c, "ending", "eof")
            got += b
    except ConnectionResetError:
        return bytes(got), "reset"
    except ssl.SSLError as e:
        return bytes(got), "tls: " + (e.reason or type(e).__name__)
    except (socket.timeout, OSError):
        return bytes(got), "timeout"


class Tls:
    """The peer's end of a TLS connection, on an SSLObject over memory BIOs, so that the peer
    tells a close_notify from a bare end of the TCP stream (ncat --ssl's) and can still answer
    after the latter (an SSLSocket's OpenSSL takes it for a fatal error, its next write fails),
    and half-closes as TLS 1.3 allows: close_notify, then the TCP FIN, reading on. One thread
    may read while another writes (the both peer): the lock keeps the SSLObject to one at a
    time, and only the writer sends on the socket."""

    def __init__(self, sock, context, server_side):
        self.sock, self.lock = sock, threading.Lock()
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = context.wrap_bio(self.incoming, self.outgoing, server_side=server_side,
                                    server_hostname=None if server_side else "localhost")
        self.closed_cleanly = self.half_closed = self.aborted = False
        sock.settimeout(BOUND)
        deadline = time.time() + BOUND
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                if time.time() > deadline:
                    raise TimeoutError("handshake longer than %g s" % BOUND)
                self.flush()
                self.feed()
        self.flush()

    def feed(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionAbortedError("end of the TCP stream in the handshake")
        with self.lock:
            self.incoming.write(data)

    def flush(self):
        with self.lock:
            data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    @property
    def ending(self):
        return "eof" if self.closed_cleanly else "eof without close_notify"

    def settimeout(self, t):
        self.sock.settimeout(t)

    def recv(self, n):
        while True:
            with self.lock:
                try:
                    b = self.obj.read(n)
                    self.closed_cleanly = not b
                    return b
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLZeroReturnError:
                    self.closed_cleanly = True
                    return b""
            data = self.sock.recv(65536)
            if not data:
                return b""  # a bare end: not handed to OpenSSL, which may still write
            with self.lock:
                self.incoming.write(data)

    def sendall(self, data):
        view = memoryview(data)
        for i in range(0, len(view), 16384):  # record by record, each sent as made
            with self.lock:
                self.obj.write(view[i:i + 16384])
            self.flush()

    def shutdown(self, how):
        """Sends close_notify, then the TCP FIN (how is SHUT_WR); reading goes on."""
        if not self.half_closed:
            self.half_closed = True
            with self.lock:
                try:
                    self.obj.unwrap()
                except ssl.SSLWantReadError:
                    pass  # close_notify made; the peer's is not waited for
            self.flush()
        self.sock.shutdown(how)

    def setsockopt(self, *args):
        self.aborted = True  # SO_LINGER 0: a reset, no close_notify
        self.sock.setsockopt(*args)

    def close(self):
        try:
            if not self.aborted and not self.half_closed:
                self.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            self.sock.close()


def serve_stream(c, behaviour, reply, shown):
    """One peer's part on a connected stream socket: (received, ending). shown() says whether the
    tool has printed the whole reply (None where it prints nothing: --send-only)."""
    # Every call bounded, sendall too: a tool that writes without reading (ncat blocks in its
    # write of stdin) would otherwise hold a peer that writes first, and the whole run, for ever.
    c.settimeout(BOUND)
    try:
        if behaviour == "read-reply":
            got, end = read_all(c, 4)
            try:
                c.sendall(reply)
            except OSError:
                pass
            return got, end
        if behaviour == "reply-first":
            try:
                c.sendall(reply)
                c.shutdown(socket.SHUT_WR)
            except socket.timeout:
                # the tool took no more of the reply for BOUND: it was not reading (ncat stops
                # reading a peer while its own write of stdin to it blocks); said in the ending
                got, end = read_all(c, 4)
                return got, end + ", own send stalled"
            except OSError:
                pass  # a tool gone already: what it left to read says so
            return read_all(c, 4)
        if behaviour == "reply-close":
            c.sendall(reply)
            return b"", "-"
        if behaviour == "reset":
            c.sendall(reply)
            # A reset drops what of the reply the tool has not taken from the network yet, so
            # the reset waits (up to 5 s) until the reply is printed whole (seed 91, TLS, two
            # workers: 0.3 s after the send, jsock's cold JVM had printed 114688 bytes of 1 MiB,
            # ncat all of it; alone, both all of it)
            deadline = time.time() + 5
            while shown and not shown() and time.time() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return b"", "-"
        if behaviour == "both":
            out = {}
            t = threading.Thread(target=lambda: out.update(r=read_all(c, 4)))
            t.start()
            try:
                c.sendall(reply)
                c.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            t.join()
            return out["r"]
    except OSError as e:
        return b"", type(e).__name__
    finally:
        c.close()


def feed(proc, data, late):
    try:
        proc.stdin.write(data)
        proc.stdin.flush()
        if late:
            time.sleep(1.0)
        proc.stdin.close()
    except OSError:
        pass


def drain(stream, sink):
    """Reads stream to its end into sink (a bytearray), chunk by chunk, so that sink says how
    much the tool has printed so far."""
    while True:
        b = stream.read1(65536)
        if not b:
            return
        sink += b


def run_tool(argv, data, late, peer):
    """Starts argv, feeds stdin, runs peer(p, printed) (which returns the peer's view; printed is
    the bytearray of the tool's stdout so far); bounded."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = {}
    printed = bytearray()
    ft = threading.Thread(target=feed, args=(p, data, late), daemon=True)
    rt = threading.Thread(target=drain, args=(p.stdout, printed), daemon=True)
    et = threading.Thread(target=lambda: out.update(e=p.stderr.read()), daemon=True)
    for t in (ft, rt, et):
        t.start()
    view = peer(p, printed)
    try:
        code = p.wait(BOUND)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        code = "hung"
    rt.join(2)
    et.join(2)
    return {"stdout": bytes(printed), "code": code, "stderr": out.get("e", b"").decode(errors="replace").strip(), "peer": view}


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def udp_bound(port, limit):
    """Waits until a UDP socket is bound to 127.0.0.1:port (/proc/net/udp), up to limit seconds."""
    want = ":%04X" % port
    deadline = time.time() + limit
    while time.time() < deadline:
        with open("/proc/net/udp") as f:
            if any(line.split()[1].endswith(want) for line in f.readlines()[1:]):
                return True
        time.sleep(0.05)
    return False


def scenario(seed):
    r = random.Random(seed)
    sc = {
        "role": r.choice(["connect", "connect", "listen", "listen", "listen-k"]),
        "transport": r.choice(["tcp", "tcp", "unix", "udp"]),
        "size": r.choice([0, 1, 4096, 1 << 20]),
        "reply": r.choice([0, 1, 4096, 1 << 20]),
        "late": r.random() < 0.3,
        "peer": r.choice(["read-reply", "reply-first", "reply-close", "reset", "both"]),
        "flag": r.choice([None, None, None, "--no-shutdown", "--send-only", "--recv-only"]),
    }
    # drawn last, so that every draw above is what it was before TLS came
    tls, verify = r.random() < 0.5, r.random() < 0.5
    if sc["transport"] == "tcp" and tls:
        sc["transport"], sc["verify"] = "tls", verify
    if sc["transport"] == "udp":
        sc["size"] = min(sc["size"], 4096)
        sc["reply"] = min(sc["reply"], 4096)
        sc["role"] = sc["role"].replace("-k", "")
        sc["peer"] = "udp"
        sc["flag"] = None
    if sc["role"] == "listen-k":
        sc["flag"] = r.choice([None, "--no-shutdown", "--send-only"])
        sc["peer"] = r.choice(["read-reply", "reply-first", "both"])
    return sc


CERTS = {}


def make_certs(tmp):
    """A CA and a certificate it signed for localhost and 127.0.0.1 (a PKCS#8 key, which both
    tools read), made by openssl in tmp; the peer's TLS contexts on them."""
    def run(*argv):
        subprocess.run(["openssl"] + list(argv), check=True, capture_output=True, timeout=BOUND, cwd=tmp)
    ec = ["-pkeyopt", "ec_paramgen_curve:P-256"]
    run("genpkey", "-algorithm", "EC", *ec, "-out", "ca.key")
    run("req", "-x509", "-key", "ca.key", "-subj", "/CN=ncatdiff CA", "-days", "2", "-out", "ca.pem")
    run("genpkey", "-algorithm", "EC", *ec, "-out", "key.pem")
    run("req", "-new", "-key", "key.pem", "-subj", "/CN=localhost", "-out", "cert.csr")
    with open(os.path.join(tmp, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "cert.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "san.ext", "-out", "cert.pem")
    CERTS.update({name: os.path.join(tmp, name + ".pem") for name in ("ca", "cert", "key")})
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(CERTS["cert"], CERTS["key"])
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(CERTS["ca"])
    CERTS.update(server=server, client=client)


def tls_options(tool, sc):
    """The tool's TLS options for its role (none but TCP's without TLS)."""
    if sc["transport"] != "tls":
        return []
    if sc["role"] != "connect":
        if tool == "jsock":
            return ["--tls", "--cert", CERTS["cert"], "--key", CERTS["key"]]
        return ["--ssl", "--ssl-cert", CERTS["cert"], "--ssl-key", CERTS["key"]]
    if tool == "jsock":
        return ["--tls"] + (["--ca", CERTS["ca"]] if sc["verify"] else ["--insecure"])
    return ["--ssl"] + (["--ssl-verify", "--ssl-trustfile", CERTS["ca"]] if sc["verify"] else [])


def one(tool, sc, seed, tmp):
    data = payload(sc["size"], "in%d" % seed)
    reply = payload(sc["reply"], "re%d" % seed)
    base = list(JSOCK) if tool == "jsock" else list(NCAT)
    flag = ([sc["flag"]] if sc["flag"] else []) + tls_options(tool, sc)
    path = os.path.join(tmp, "%s-%d.sock" % (tool, seed))
    if sc["role"] == "connect":
        if sc["transport"] == "unix":
            ls = socket.socket(socket.AF_UNIX)
            ls.bind(path)
            where = ["-U", path] if tool == "jsock" else ["-U", path]
        elif sc["transport"] == "udp":
            ls = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            ls.bind(("127.0.0.1", 0))
            where = ["-u", "127.0.0.1", str(ls.getsockname()[1])]
        else:
            ls = socket.socket()
            ls.bind(("127.0.0.1", 0))
            # ncat --ssl-verify matches a name only (not 127.0.0.1's IP entry): localhost, which
            # is 127.0.0.1 only here (/etc/hosts), for both tools
            host = "localhost" if sc.get("verify") else "127.0.0.1"
            where = [host, str(ls.getsockname()[1])]
        if sc["transport"] != "udp":
            ls.listen(1)
        argv = base + (["connect"] if tool == "jsock" else []) + flag + where

        def peer(p, printed):
            ls.settimeout(BOUND)
            try:
                if sc["transport"] == "udp":
                    got = bytearray()
                    first = True
                    try:
                        while True:
                            # the first datagram comes after the tool's start (a JVM's, on a
                            # loaded machine seconds): waited for up to BOUND; then 1.5 s of quiet
                            ls.settimeout(BOUND if first else 1.5)
                            b, a = ls.recvfrom(65536)
                            got += b
                            if first and reply:
                                ls.sendto(reply, a)
                            first = False
                    except socket.timeout:
                        pass
                    return bytes(got), "-"
                c, _ = ls.accept()
                if sc["transport"] == "tls":
                    try:
                        c = Tls(c, CERTS["server"], server_side=True)
                    except OSError as e:
                        c.close()
                        return b"", "handshake:" + (getattr(e, "reason", None) or type(e).__name__)
                shown = None if sc["flag"] == "--send-only" else lambda: len(printed) >= len(reply)
                return serve_stream(c, sc["peer"], reply, shown)
            except OSError as e:
                return b"", "accept:" + type(e).__name__
            finally:
                ls.close()

        return run_tool(argv, data, sc["late"], peer)
    # listen roles: the peer is a client (two in sequence with -k)
    k = sc["role"] == "listen-k"
    if sc["transport"] == "unix":
        where = ["-U", path]
        addr, fam, kind = path, socket.AF_UNIX, socket.SOCK_STREAM
    elif sc["transport"] == "udp":
        port = free_port(socket.SOCK_DGRAM)
        where = ["-u", "127.0.0.1", str(port)]
        addr, fam, kind = ("127.0.0.1", port), socket.AF_INET, socket.SOCK_DGRAM
    else:
        port = free_port(socket.SOCK_STREAM)
        where = ["127.0.0.1", str(port)]
        addr, fam, kind = ("127.0.0.1", port), socket.AF_INET, socket.SOCK_STREAM
    argv = base + (["listen"] if tool == "jsock" else ["-l"]) + (["-k"] if k else []) + flag + where

    def connect():
        deadline = time.time() + BOUND
        while time.time() < deadline:
            c = socket.socket(fam, kind)
            try:
                c.connect(addr)
                return c
            except OSError:
                c.close()
                time.sleep(0.05)
        return None

    def peer(p, printed):
        views = []
        for i in range(2 if k else 1):
            if kind == socket.SOCK_DGRAM:
                c = socket.socket(fam, kind)
                # UDP has no connection to wait for: wait until the tool has bound its port
                # (a datagram sent before is lost, and the listener waits for ever)
                if not udp_bound(port, BOUND):
                    views.append((b"", "no-listener"))
                    continue
                c.sendto(reply or b"x", addr)
                got = bytearray()
                c.settimeout(1.5)
                try:
                    while True:
                        got += c.recv(65536)
                except OSError:
                    pass
                c.close()
                views.append((bytes(got), "-"))
            else:
                c = connect()
                if c is None:
                    views.append((b"", "no-listener"))
                    continue
                if sc["transport"] == "tls":
                    try:
                        c = Tls(c, CERTS["client"], server_side=False)
                    except OSError as e:
                        c.close()
                        views.append((b"", "handshake:" + (getattr(e, "reason", None) or type(e).__name__)))
                        continue
                whole = len(printed) + sc["reply"]
                shown = None if sc["flag"] == "--send-only" else lambda: len(printed) >= whole
                views.append(serve_stream(c, sc["peer"], payload(sc["reply"], "re%d-%d" % (seed, i)), shown))
                if k and i == 0:
                    # The first client has closed, but what it sent may still wait in the tool's
                    # receive buffer: a second client connecting now raced it to stdout, and
                    # stdout's order was a matter of timing (seed 229, TCP before TLS came: ncat
                    # -l -k printed the second client's 1 MiB inside the first's). Connected once
                    # the tool has printed the first client's data instead (up to 5 s;
                    # --send-only prints none).
                    want = 0 if sc["flag"] == "--send-only" else sc["reply"]
                    deadline = time.time() + 5
                    while len(printed) < want and time.time() < deadline:
                        time.sleep(0.05)
        if k or kind == socket.SOCK_DGRAM:
            time.sleep(0.5)
            p.kill()
        return views

    return run_tool(argv, data, sc["late"], peer)


def views(res):
    """The peer's views of a run, one per client: [(received, ending)]."""
    peer = res["peer"]
    return peer if isinstance(peer, list) else [peer]


def summary(res):
    return {
        "stdout": digest(res["stdout"]),
        "peer": [(digest(b), e) for b, e in views(res)],
        "ok": res["code"] == 0 if res["code"] not in ("hung", -9) else res["code"],
    }


def parts_of_stdin(sent, received):
    """Whether what each client received is a part of stdin as sent: the first one's the start of
    it (stdin is read once a first client is there), a later -k client's any stretch of it (the
    broadcast from its arrival on, up to its own end)."""
    return all(sent.startswith(got) if i == 0 else got in sent for i, got in enumerate(received))


def replies(sc, seed):
    """What a tool prints when every reply arrives whole: each client's reply, in order."""
    if sc["flag"] == "--send-only":
        return b""
    if sc["role"] == "connect":
        return payload(sc["reply"], "re%d" % seed)
    clients = 2 if sc["role"] == "listen-k" else 1
    return b"".join(payload(sc["reply"], "re%d-%d" % (seed, i)) for i in range(clients))


def documented(sc, j, n, sent, received, expected):
    """Names the documented difference that explains j vs n, or None.

    Each filter is about an ending (who closes first, an exit code, a reset): none of them may hide
    a difference in data, so none applies unless what each tool's peers received is a part of
    stdin as sent (received: each tool's list of what its clients got, in bytes; expected: what a
    tool prints when every reply arrives whole)."""
    if not all(parts_of_stdin(sent, got) for got in received.values()):
        return None
    if sc["transport"] == "tls":
        # connect-listen.md's TLS rules: ncat --ssl never sends close_notify, its peer reads a
        # bare end of the TCP stream where jsock's reads close_notify; the rest is compared
        plain = [(got, "eof" if end == "eof without close_notify" and mine == "eof" else end)
                 for (got, end), (_, mine) in zip(n["peer"], j["peer"])]
        if plain != n["peer"]:
            n = dict(n, peer=plain)
            if j == n:
                return "ncat --ssl ends its TLS stream without close_notify"
    if any(e.endswith("own send stalled") for _, e in n["peer"]) and j["stdout"] == digest(expected):
        # ncat stops reading its peer while its write of stdin to it blocks, so a peer that
        # writes a lot before it reads waits with it (seed 386: AF_UNIX, 1 MiB each way, the
        # peer's send gave up after BOUND, most of its reply unsent); jsock reads and writes at
        # once, and printed every reply whole
        if all(not e.endswith("own send stalled") for _, e in j["peer"]):
            return "ncat stops reading while its write of stdin blocks: a peer writing first stalls"
    if sc["flag"] == "--recv-only":
        return "recv-only half-closes at once (ncat never)"
    if sc["role"] == "listen" and sc["peer"] in ("reply-first", "both", "reply-close", "reset"):
        # connect-listen.md's differences: jsock listen goes on sending stdin to a client that
        # half-closed first, ncat -l closes there, the rest of stdin unsent. Only the endings and
        # how much of stdin ncat's client got may differ: both printed the same, and a jsock client
        # that read to its end got all of stdin.
        if j["stdout"] == n["stdout"] and all(
            got == sent for got, (_, end) in zip(received["jsock"], j["peer"]) if end == "eof"
        ):
            return "listen: ncat -l closes at its client's end of file, stdin unsent"
    gone = ("reset", "no-listener", "BrokenPipeError", "ConnectionResetError", "OSError")
    if sc["flag"] == "--send-only" and j["stdout"] == n["stdout"] and j["ok"] == n["ok"]:
        # connect-listen.md's flag table: --send-only's received data is "read and dropped";
        # ncat does not read its peer, so a peer that writes meets a reset or a broken pipe
        # (ncat closes with the peer's data unread), and a listen -k client that comes once
        # stdin has ended meets a listener exiting (refused, or accepted and half-closed or reset)
        if all(a == b or b[1] in gone or (i > 0 and a[1] in ("eof",) + gone)
               for i, (a, b) in enumerate(zip(j["peer"], n["peer"]))):
            return "send-only: ncat leaves its peer's data unread (reset), or is gone sooner"
    if sc["role"] == "connect" and sc["peer"] == "reply-close" and sc["size"] > 0:
        if j["ok"] is False and n["ok"] is True and j["stdout"] == n["stdout"]:
            # connect-listen.md's end-of-file policy, rule 3: stdin is still sent to a peer that
            # closed first, "and if the peer has gone away entirely, the send fails: exit code 1";
            # ncat ignores the reset its data met
            return "connect: stdin sent to a peer that closed and went (exit 1; ncat 0)"
    if sc["transport"] == "udp" and sc["role"] == "connect" and j["peer"] == n["peer"]:
        if n["stdout"] == digest(b"") and sc["reply"] > 0:
            # connect-listen.md's UDP rules: after stdin ends jsock prints replies until none has
            # come for 1 s; ncat -u exits at stdin's end, a reply coming later lost
            return "connect -u: ncat exits at stdin's end, its reply lost"
    if sc["role"] == "listen-k":
        if j["stdout"] == n["stdout"] and j["peer"][0] == n["peer"][0] and j["peer"][1][1] == "eof":
            return "listen -k: a client that comes after stdin's end is half-closed (ncat: not)"
        if sc["flag"] != "--send-only" and sc["peer"] != "read-reply" and j["stdout"] == n["stdout"]:
            return "listen -k: how much of stdin a client gets before its own end of file (timing)"
    return None


def reset_cut(sc, seed, printed):
    """What a tool printed, as summary() says it, where the peer's reset may cut its reply short.

    A peer that closes with data unread (reply-close while stdin is sent) resets the connection at
    once, dropping what of its reply was still in flight, so how much of a large reply got through
    is timing (seed 304: jsock printed 195584 bytes of 1 MiB, ncat 128000, both exit 1). There any
    start of the reply counts as the same; anything else is still a data difference. None where
    no such reset can cut the reply (the reset peer waits 0.3 s before its reset: compared whole)."""
    if sc["transport"] == "udp" or sc["peer"] != "reply-close" or sc["size"] == 0:
        return None
    reply = payload(sc["reply"], "re%d" % seed if sc["role"] == "connect" else "re%d-0" % seed)
    return "start of the reply, cut by the reset" if reply.startswith(printed) else None


def main():
    seed0 = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    tmp = tempfile.mkdtemp(prefix="ncatdiff-")
    make_certs(tmp)
    stats = {"same": 0, "documented": 0, "different": 0}

    def do(seed):
        sc = scenario(seed)
        sent = payload(sc["size"], "in%d" % seed)
        runs = {tool: one(tool, sc, seed, tmp) for tool in ("jsock", "ncat")}
        j, n = summary(runs["jsock"]), summary(runs["ncat"])
        for view, res in ((j, runs["jsock"]), (n, runs["ncat"])):
            view["stdout"] = reset_cut(sc, seed, res["stdout"]) or view["stdout"]
        received = {tool: [got for got, _ in views(res)] for tool, res in runs.items()}
        if sc["role"] == "listen-k" or sc["transport"] == "udp":
            j["ok"] = n["ok"] = "-"  # killed by the harness: no exit to compare
        if j == n:
            return "same", sc, j, n
        why = documented(sc, j, n, sent, received, replies(sc, seed))
        return ("documented:" + why if why else "different"), sc, j, n

    with ThreadPoolExecutor(workers) as ex:
        for seed, (verdict, sc, j, n) in zip(range(seed0, seed0 + count), ex.map(do, range(seed0, seed0 + count))):
            key = verdict.split(":")[0]
            stats[key] += 1
            if key != "same":
                print("seed %d %s %s\n  jsock %s\n  ncat  %s" % (seed, verdict, sc, j, n), flush=True)
    print(stats)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
