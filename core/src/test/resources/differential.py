"""The Python side of PythonDifferentialTest: runs socket operations read from stdin, one a line,
and prints each outcome in the form the test compares (see PythonDifferentialTest).

A step that would wait (for more than a second) is cut off by SIGALRM and answered STOP: the
sequence ends there. A drainer ("drain P K") reads P on a thread of its own, so that a large send
to P's peer goes through; it reads K bytes (then resets P) or to the end, and "drained P" says what
it read."""
import array
import fcntl
import os
import select
import selectors
import signal
import struct
import socket
import sys
import termios
import threading
import zlib

FAMILIES = {"AF_INET": socket.AF_INET, "AF_INET6": socket.AF_INET6, "AF_UNIX": socket.AF_UNIX}
KINDS = {"SOCK_STREAM": socket.SOCK_STREAM, "SOCK_DGRAM": socket.SOCK_DGRAM}
HOWS = {"SHUT_RD": socket.SHUT_RD, "SHUT_WR": socket.SHUT_WR, "SHUT_RDWR": socket.SHUT_RDWR}
OPTIONS = {"SO_REUSEADDR": (socket.SOL_SOCKET, socket.SO_REUSEADDR),
           "SO_KEEPALIVE": (socket.SOL_SOCKET, socket.SO_KEEPALIVE),
           "SO_RCVBUF": (socket.SOL_SOCKET, socket.SO_RCVBUF),
           "SO_BROADCAST": (socket.SOL_SOCKET, socket.SO_BROADCAST),
           "TCP_NODELAY": (socket.IPPROTO_TCP, socket.TCP_NODELAY)}
PLAIN = {"FileNotFoundError", "PermissionError", "InterruptedError", "IsADirectoryError",
         "NotADirectoryError", "FileExistsError", "ProcessLookupError", "ChildProcessError"}

directory = sys.argv[1]
nobody = {socket.AF_INET: ("127.0.0.1", int(sys.argv[2])), socket.AF_INET6: ("::1", int(sys.argv[3]))}
nobody_udp = {socket.AF_INET: ("127.0.0.1", int(sys.argv[4])), socket.AF_INET6: ("::1", int(sys.argv[5]))}


def target_of(s, name):
    if name == "N":
        if s.family == socket.AF_UNIX:
            return os.path.join(directory, "nobody")
        return (nobody if s.type == socket.SOCK_STREAM else nobody_udp)[s.family]
    return addrs.get(name)

socks, addrs, counter, sequence = {}, {}, [0], ["0"]
selector = [selectors.DefaultSelector()]
EVENTS = {"r": selectors.EVENT_READ, "w": selectors.EVENT_WRITE,
          "rw": selectors.EVENT_READ | selectors.EVENT_WRITE}


def events_of(mask):
    return {selectors.EVENT_READ: "r", selectors.EVENT_WRITE: "w"}.get(mask, "rw")


def selecting(op, name, s, args):
    # One selector per sequence; a key's data is the slot its socket was registered from.
    sel = selector[0]
    if op == "register":
        try:
            return "K:" + events_of(sel.register(s, EVENTS[args[0]], name).events)
        except KeyError:
            held = sel.get_map().get(s.fileno()) if s.fileno() >= 0 else None
            if held is not None and held.fileobj is not s:
                return "E:KeyError:stale"  # the descriptor of a socket closed while registered
            return "E:KeyError"
    try:
        if op == "modify":
            return "K:" + events_of(sel.modify(s, EVENTS[args[0]], name).events)
        return "K:" + events_of(sel.unregister(s).events)
    except KeyError:
        return "E:KeyError"


def unregister_quietly(s):
    try:
        selector[0].unregister(s)
    except (KeyError, ValueError):
        pass


def closing(s):
    # unregistered first, as the selectors documentation requires (jsock's close of a socket still
    # registered is deferred by the JDK until the next select: README)
    unregister_quietly(s)
    return s.close()


def data(n):
    counter[0] += 1
    start = counter[0] * 7
    cycle = bytes((start + i) % 26 + 97 for i in range(26))
    return (cycle * (n // 26 + 1))[:n]


def outcome(e):
    kind = type(e).__name__
    return "E:" + ("OSError" if kind in PLAIN else kind) + ":" + str(e.errno)


drainers, retired = {}, []


def drain(s, limit, box):
    count, crc, end = 0, 0, "EOF"
    try:
        while limit is None or count < limit:
            d = s.recv(65536 if limit is None else min(65536, limit - count))
            if not d:
                break
            count += len(d)
            crc = zlib.crc32(d, crc)
        else:
            end = "K"
            if s.family != socket.AF_UNIX:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError as e:
        end = outcome(e)
    box.append("D:%d:%08x:%s" % (count, crc, end))
    s.close()


def stop_drainers():
    for s, t, box in list(drainers.values()) + retired:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if t.ident is not None:
            t.join(2)
        s.close()
    drainers.clear()
    retired.clear()


def norm(a):
    if a is None:
        return "None"
    if isinstance(a, (str, bytes)):
        path = a.decode() if isinstance(a, bytes) else a
        if path == "":
            return "A:unnamed"
        if path.startswith("\0"):
            return "A:abstract"
        for name, known in addrs.items():
            if known == path:
                return "A:@" + name
        return "A:" + os.path.basename(path)
    host, port = a[0].split("%")[0], a[1]
    host = socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host).hex()
    for name, known in addrs.items():
        if isinstance(known, tuple) and known[1] == port and port != 0:
            return "A:" + host + ":@" + name
    return "A:" + host + ":" + ("0" if port == 0 else "eph")


def loopback(s, name):
    if s.family == socket.AF_UNIX:
        return os.path.join(directory, sequence[0] + "-" + name + "-" + str(counter[0]))
    return ("::1" if s.family == socket.AF_INET6 else "127.0.0.1", 0)


def quiet(s):
    # A blocking receive or accept only runs when it will not wait: the test skips it otherwise.
    if s.gettimeout() is None:
        try:
            r, _, _ = select.select([s], [], [], 0.1)
        except (OSError, ValueError):
            return False
        return not r
    return False


def run(op, name, args):
    if op == "new":
        old = socks.pop(name, None)
        if old:
            closing(old)
        socks[name] = socket.socket(FAMILIES[args[0]], KINDS[args[1]])
        return "ok"
    if op == "drained":
        if name not in drainers:
            return "NOSLOT"
        s, t, box = drainers[name]
        if t.ident is not None:
            t.join(0.8)  # within the step's alarm
        if t.is_alive():
            return "SKIP"
        del drainers[name]
        return box[0]
    if op == "select":
        ready = sorted(key.data + ":" + events_of(mask) for key, mask in selector[0].select(0))
        return "R:" + ",".join(ready)
    if op == "pair":
        for slot in (name, args[0]):
            old = socks.pop(slot, None)
            if old:
                closing(old)
        socks[name], socks[args[0]] = socket.socketpair()
        return "ok"
    if name not in socks:
        return "NOSLOT"
    s = socks[name]
    if op in ("register", "modify", "unregister"):
        return selecting(op, name, s, args)
    if op == "bind":
        counter[0] += 1
        s.bind(loopback(s, name))
        addrs[name] = s.getsockname()
        return "None"
    if op == "bindany":
        s.bind("" if s.family == socket.AF_UNIX else ("::" if s.family == socket.AF_INET6 else "0.0.0.0", 0))
        addrs[name] = s.getsockname()
        return "None"
    if op == "abort":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return str(closing(s))
    if op == "setsockopt":
        v = int(args[1])
        if args[0] == "SO_RCVBUF":
            v = 4096 + 4096 * v
        return str(s.setsockopt(*OPTIONS[args[0]], v))
    if op == "getsockopt":
        return str(s.getsockopt(*OPTIONS[args[0]]))
    if op == "listen":
        s.listen(int(args[0]) if args else 5)
        return "None"
    if op == "bigsend":
        size = int(args[0])
        n = s.send(data(size))
        if s.gettimeout() is not None:
            return "SENT" if n > 0 else str(n)  # how much goes at once is timing
        return str(n) if n == size else "PART"
    if op == "drain":
        socks.pop(name)
        unregister_quietly(s)  # its readiness is the drainer's: timing
        if name in drainers:
            retired.append(drainers.pop(name))  # stopped at the sequence's end
        s.settimeout(None)
        box = []
        limit = None if args[0] == "ALL" else int(args[0])
        t = threading.Thread(target=drain, args=(s, limit, box), daemon=True)
        drainers[name] = (s, t, box)
        if limit == 0:
            t.run()  # a reset at once, before the next step: no thread to race it
        else:
            t.start()
        return "ok"
    if op == "unread":
        buf = array.array("i", [0])
        fcntl.ioctl(s, termios.FIONREAD, buf)
        return str(buf[0])
    if op == "accept":
        if quiet(s):
            return "SKIP"
        conn, a = s.accept()
        old = socks.pop(args[0], None)
        if old:
            closing(old)
        socks[args[0]] = conn
        return norm(a)
    if op in ("connect", "connect_ex"):
        target = target_of(s, args[0])
        if target is None:
            return "NOADDR"
        if isinstance(target, tuple):
            target = target[:2]
        return str(getattr(s, op)(target))
    if op == "send":
        return str(s.send(data(int(args[0]))))
    if op == "sendall":
        return str(s.sendall(data(int(args[0]))))
    if op == "sendto":
        target = target_of(s, args[1])
        if target is None:
            return "NOADDR"
        return str(s.sendto(data(int(args[0])), target))
    if op == "recv":
        if quiet(s):
            return "SKIP"
        return "b:" + s.recv(int(args[0])).hex()
    if op == "recv_into":
        if quiet(s):
            return "SKIP"
        buf = bytearray(int(args[0]))
        n = s.recv_into(buf, int(args[0]))
        return str(n) + ":" + bytes(buf[:n]).hex()
    if op == "recv_into_n":  # a buffer of 16, nbytes as given (0: the whole buffer)
        if quiet(s):
            return "SKIP"
        buf = bytearray(16)
        n = s.recv_into(buf, int(args[0]))
        return str(n) + ":" + bytes(buf[:n]).hex()
    if op == "recvfrom_into":
        if quiet(s):
            return "SKIP"
        buf = bytearray(int(args[0]))
        n, a = s.recvfrom_into(buf)
        return str(n) + ":" + bytes(buf[:n]).hex() + " " + norm(a)
    if op == "readline":  # makefile("r") needs a blocking socket; the rest of what it read is lost
        if s.gettimeout() == 0 or quiet(s):
            return "SKIP"
        f = s.makefile("r")
        try:
            line = f.readline()
        finally:
            f.close()
        return "L:" + line.rstrip("\n") if line else "EOF"
    if op == "writeline":
        if s.gettimeout() == 0:
            return "SKIP"
        f = s.makefile("w")
        try:
            f.write(data(int(args[0])).decode() + "\n")
            f.flush()
        finally:
            try:
                f.close()
            except OSError:
                pass
        return "None"
    if op == "sendfile":  # python refuses non-blocking sockets (README: jsock sends what it can)
        if s.gettimeout() == 0:
            return "SKIP"
        counter[0] += 1
        path = os.path.join(directory, "file-%s-%d" % (sequence[0], counter[0]))
        with open(path, "wb") as f:
            f.write(data(int(args[0])))
        with open(path, "rb") as f:
            return str(s.sendfile(f))
    if op == "recvfrom":
        if quiet(s):
            return "SKIP"
        d, a = s.recvfrom(int(args[0]))
        return "b:" + d.hex() + " " + norm(a)
    if op == "shutdown":
        return str(s.shutdown(HOWS[args[0]]))
    if op == "close":
        return str(closing(s))
    if op == "setblocking":
        return str(s.setblocking(args[0] == "1"))
    if op == "settimeout":
        return str(s.settimeout(None if args[0] == "None" else float(args[0])))
    if op == "getsockname":
        return norm(s.getsockname())
    if op == "getpeername":
        return norm(s.getpeername())
    if op == "getblocking":
        return str(s.getblocking())
    if op == "gettimeout":
        return str(s.gettimeout())
    return "UNKNOWN " + op


class Waits(Exception):
    """A step that waited more than a second."""


guarded = [False]


def on_alarm(*_):
    if guarded[0]:
        raise Waits()


signal.signal(signal.SIGALRM, on_alarm)

for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    if words[0] == "reset":
        stop_drainers()
        for s in socks.values():
            s.close()
        socks.clear()
        addrs.clear()
        selector[0].close()
        selector[0] = selectors.DefaultSelector()
        counter[0] = 0
        sequence[0] = words[1]
        out = "ok"
    else:
        try:
            guarded[0] = True
            signal.setitimer(signal.ITIMER_REAL, 1.0)
            try:
                out = run(words[0], words[1], words[2:])
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                guarded[0] = False
        except Waits:
            out = "STOP"
        except (ValueError, TypeError, OverflowError) as e:
            out = "E:ArgError"
        except KeyError:
            out = "E:KeyError"
        except OSError as e:
            out = outcome(e)
    print(out, flush=True)
