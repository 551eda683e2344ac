package io.jsock;

import static io.jsock.internal.StreamCalls.UNKNOWN_ADDRESS;

import io.jsock.internal.Addresses;
import io.jsock.internal.Errors;
import io.jsock.internal.Meter;
import io.jsock.internal.OffCarrier;
import io.jsock.internal.PolledChannel;
import io.jsock.internal.ScratchBuffers;
import io.jsock.internal.ScratchBuffers.Scratch;
import io.jsock.internal.SocketAccess;
import io.jsock.internal.StreamCalls;
import io.jsock.internal.TlsEngine;
import io.jsock.internal.UnixSocketFiles;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.FileChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import jdk.net.ExtendedSocketOptions;

/**
 * A socket, as Python's {@code socket.socket}: one object for servers and clients, whose role
 * follows from the calls made on it.
 *
 * <pre>{@code
 * import static io.jsock.Family.*;
 * import static io.jsock.SocketKind.*;
 *
 * try (Socket server = Socket.create(AF_INET, SOCK_STREAM)) {
 *   server.bind("localhost", 12345);
 *   server.listen(1);
 *   Accepted accepted = server.accept();
 *   try (Socket conn = accepted.conn()) {
 *     byte[] data = conn.recv(1024);
 *     conn.sendAll("Hello, client!".getBytes(UTF_8));
 *   }
 * }
 * }</pre>
 *
 * <p><b>Timeouts.</b> Every operation follows Python's three modes: blocking ({@code
 * setTimeout(null)}, the default unless {@link Sockets#setDefaultTimeout} says otherwise),
 * non-blocking ({@code setTimeout(Duration.ZERO)}: an operation that would wait throws {@link
 * WouldBlockException}) and timeout mode (a positive duration: an operation that does not finish in
 * time throws {@link java.net.SocketTimeoutException}). A timeout bounds each call as a whole, so
 * {@link #sendAll} with a timeout of one second returns or fails within about a second.
 *
 * <p><b>Threads.</b> A socket may be used from several threads, virtual or platform: one may
 * receive while another sends. Waiting parks the thread through a readiness mechanism shared by all
 * sockets, so a waiting socket holds no thread of its own beyond its caller's.
 *
 * <p><b>Errors.</b> Failures are {@link IOException}s with messages that name the operation, the
 * address and the reason: {@code connect to [::1]:9: connection refused}. jsock's own exceptions
 * implement {@link SocketError}, with the error number; a timeout is the JDK's {@link
 * java.net.SocketTimeoutException} (Python's {@code TimeoutError}) and a wait ended by an interrupt
 * a {@link java.io.InterruptedIOException}, and neither carries one. Invalid arguments throw {@link
 * IllegalArgumentException} or {@link NullPointerException} naming the parameter.
 */
public final class Socket implements AutoCloseable {
  private static final int DEFAULT_BACKLOG = 128; // Python's min(SOMAXCONN, 128)

  /**
   * The most one call hands to the kernel from or to a heap buffer through the JDK's channel (and
   * one receive through {@link StreamCalls}): the JDK copies heap buffers through a temporary
   * direct buffer as large as the request, so an unbounded request would allocate (and cache per
   * carrier thread) a direct buffer of the caller's size. A send through {@link StreamCalls} takes
   * the heap buffer in place, whole (see {@link #writeOnce}).
   */
  private static final int MAX_TRANSFER = 256 * 1024;

  /** Data up to this size that {@code send(byte[])} is given goes through {@link #sendCopied}. */
  private static final int COPIED_SEND = 2048;

  /**
   * The longest pause between the tries of a blocking AF_UNIX connect to a listener whose queue is
   * full (see {@link #connect(SocketAddress)}): how late it may notice the room an accept made.
   */
  private static final long MAX_CONNECT_PAUSE_MILLIS = 50;

  private static final byte[] EMPTY = new byte[0];

  /**
   * The longest AF_UNIX path the JDK takes: one byte less than Linux's 107 ({@code sun_path} is 108
   * bytes with the final NUL), which the JDK refuses with a bare {@code SocketException}.
   */
  private static final int MAX_UNIX_PATH = 106;

  /** How the JDK encodes file names for the kernel. */
  private static final Charset PATH_CHARSET =
      Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"), StandardCharsets.UTF_8);

  /** Larger than any UDP datagram (65,507 bytes over IPv4, 65,527 over IPv6). */
  private static final int MAX_DATAGRAM = 64 * 1024;

  /** {@code IPPROTO_TCP} and its option {@code TCP_NODELAY}, as Linux numbers them. */
  private static final int IPPROTO_TCP = 6;

  private static final int TCP_NODELAY_OPTNAME = 1;

  /** {@code TCP_SYNCNT} and {@code TCP_USER_TIMEOUT} (level {@code IPPROTO_TCP}), as Linux's. */
  private static final int TCP_SYNCNT_OPTNAME = 7;

  private static final int TCP_USER_TIMEOUT_OPTNAME = 18;

  /**
   * {@code TCP_INFO} (level {@code IPPROTO_TCP}), and its {@code tcpi_state} of a closed socket.
   */
  private static final int TCP_INFO_OPTNAME = 11;

  private static final int TCP_CLOSE_STATE = 7;

  /** {@code SOL_SOCKET} and its option {@code SO_ERROR}, as Linux numbers them. */
  private static final int SOL_SOCKET = 1;

  private static final int SO_ERROR_OPTNAME = 4;

  /** {@code IPPROTO_IPV6} and its option {@code IPV6_V6ONLY}, as Linux numbers them. */
  private static final int IPPROTO_IPV6 = 41;

  private static final int IPV6_V6ONLY_OPTNAME = 26;

  /** Whether the JDK runs on Linux, whose buffer sizes it reports halved. */
  private static final boolean LINUX = System.getProperty("os.name", "").equals("Linux");

  static {
    SocketAccess.set(new Access());
  }

  private final Family family;
  private final SocketKind kind;
  private final Object stateLock = new Object();

  /**
   * Options set by the user, re-applied when the channel is replaced (guarded by stateLock): empty
   * and shared until the first is set (an accepted connection seldom sets one), then a map of its
   * own, in the order they were set.
   */
  private Map<SocketOption<?>, Object> options = Map.of();

  /**
   * Whether the listener that accepted this connection gave it an {@code SO_LINGER} above 0
   * (guarded by stateLock): with its own {@code options}, what {@link #close()} needs to know
   * whether the kernel's close may wait.
   */
  private boolean lingerInherited;

  /** The current channel: a SocketChannel until listen(), then a ServerSocketChannel. */
  private volatile PolledChannel polled;

  private volatile long timeoutNanos;

  /**
   * The timeout of the send paths: equal to {@link #timeoutNanos} (every mode change sets both),
   * unless the server framework gave sends a bound of their own ({@link
   * SocketAccess#setSendTimeout}) until the next mode change. A field of its own, kept in step, so
   * that a send reads one field as a recv does.
   */
  private volatile long sendTimeoutNanos;

  private volatile boolean closed;

  /** The input was shut down: reads go through the channel, which reports end of stream at once. */
  private volatile boolean inputShut;

  /**
   * A read through the channel reported the peer's reset: later reads give end of stream, as
   * Linux's do, where the JDK's channel would throw the reset again (see {@link #readChannel}).
   */
  private volatile boolean resetReported;

  /**
   * A blocking send that met the peer's reset once some bytes went returned their count ({@link
   * #sendRest}); Linux's blocking {@code send(2)} leaves the reset in {@code sk_err} then, so the
   * next send or receive reports it, where jsock's non-blocking one took it: {@link
   * #takePendingReset} reports it instead.
   */
  private volatile boolean resetPending;

  /**
   * A shutdown stopped this TCP listener listening, as Linux does; {@link #listen} starts it again
   * (guarded by stateLock).
   */
  private boolean listenerStopped;

  /**
   * This AF_UNIX listener was shut down for reading: Linux refuses its new clients, and its
   * blocking accept fails with EINVAL once the queue is empty.
   */
  private volatile boolean unixListenerShut;

  /**
   * The directions {@link #shutdownUnconnected} shut on this AF_UNIX stream socket before it was
   * connected or listening (1 for reading, 2 for writing; guarded by stateLock): Linux keeps them
   * on the socket through a failed connect and a listen, so the channel that jsock puts in its
   * place then is shut down as well.
   */
  private int unixShutUnconnected;

  /**
   * Set with {@link #closed} when io.jsock.tls wrapped the socket: the TLS socket that owns the
   * channel from then on; null while this socket owns it.
   */
  private volatile Socket detachedTo;

  /** The TLS layer that the data methods go through, or null for a plain socket. */
  private final TlsEngine tls;

  /**
   * The {@link SocketSelector}s this socket is registered with (guarded by stateLock; copied on
   * change, so that close() reads it once), which {@link #close()} makes let go of the channel
   * before closing it.
   */
  private List<SocketSelector> selectors = List.of();

  private volatile SocketAddress peer;

  /** An end of {@link Sockets#socketPair()}: no address of its own, as socketpair(2)'s ends. */
  private volatile boolean unnamed;

  /**
   * Guards {@link #scratch}, so that several threads may receive datagrams at once; null on a
   * stream socket, which never takes it (one object less per connection).
   */
  private final ReentrantLock datagramLock;

  private ByteBuffer scratch;

  /**
   * What was queued when the socket connected, to be received before anything else (guarded by
   * stateLock; null when there is nothing, so that a receive reads one field to know): each
   * datagram as a {@link KeptDatagram}, and first a {@link PendingError} if the kernel had an error
   * pending (an ICMP error from the old peer, such as port unreachable, which Linux keeps across
   * the connect and reports to the next receive or send). Linux's connect filters only datagrams
   * that come later; the JDK's discards every one queued, the new peer's own too, and its
   * disconnect makes the error one that no receive reports.
   */
  private volatile ArrayDeque<Kept> held;

  /** What {@link #hold} counts for each datagram beside its bytes: Linux charges more still. */
  private static final int HELD_DATAGRAM_OVERHEAD = 256;

  /** How many sockets hold datagrams: a selector looks for them only while some do. */
  private static final AtomicInteger HOLDING = new AtomicInteger();

  /**
   * Where a datagram socket receives (as its bind, or the first receive, found it bound), for
   * messages after a close has taken the address from the channel; once set, the socket stays bound
   * and a receive need not ask again.
   */
  private volatile SocketAddress receivingOn;

  /**
   * The address a listener listens on, for accept's messages once a close has taken it from the
   * channel (written under stateLock).
   */
  private volatile SocketAddress listeningOn;

  /** The address the user bound to, re-bound when a failed connect makes the JDK drop a channel. */
  private SocketAddress boundAddress;

  /**
   * AF_UNIX: the identity of the socket file this socket's bind made ({@link
   * UnixSocketFiles#identity}), so that re-binding the path (a listener, a channel after a failed
   * connect) removes that file and never one another program has put there since.
   */
  private Object boundFileIdentity;

  /**
   * The address the kernel gave a TCP socket bound after a reset closed its connection ({@link
   * #bindClosedConnection}), or left it with when that bind found the port taken, which the JDK's
   * channel, connected for good, does not know; else null.
   */
  private volatile InetSocketAddress reboundName;

  /** Where the last connect went, while it may still be in progress (non-blocking, timed out). */
  private volatile SocketAddress pendingTarget;

  /**
   * Where a TCP connect went that failed with no connect call taking its error from the kernel (a
   * send or a receive reported it, or a connect in timeout mode that polled for it, as CPython's
   * reads {@code SO_ERROR}), else null. Linux's socket then stays {@code SS_CONNECTING} with its
   * receive side shut: receives give the end of the stream, and the next connect {@code
   * ECONNABORTED}, after which it is unconnected (python3 shows both). A connect call that takes
   * the error itself (blocking, or the one after {@code EINPROGRESS}) leaves it unconnected at
   * once.
   */
  private volatile SocketAddress connectAborted;

  /**
   * The address and port the kernel chose for a TCP connect that went in progress (read then: the
   * JDK's failing finishConnect closes the descriptor), else null. Once the connect failed, Linux's
   * socket keeps that address while it stays connecting ({@link #connectAborted}), and its port
   * with the wildcard address once unconnected (python3 shows both), until a bind or another
   * connect; the epoll path only (the descriptor is at hand).
   */
  private volatile SocketAddress connectingFrom;

  /**
   * A shutdown came while {@link #connectAborted}: Linux's then leaves the socket disconnecting,
   * and every connect after it says {@code EINVAL} (python3 shows it). Written under stateLock.
   */
  private volatile boolean connectAbortedShut;

  /**
   * A stream connect has been tried, whatever came of it: Linux never lets such a TCP socket
   * listen, and the fresh channel that replaces a failed connect's would not know.
   */
  private volatile boolean connectTried;

  /**
   * A connect in progress was completed by another call (a send, a receive, a selector) than {@code
   * connect}: as Linux's socket stays {@code SS_CONNECTING} until a connect call looks, the next
   * {@code connect} succeeds (Python's {@code connect_ex} returns 0) and only the one after it says
   * {@code EISCONN}.
   */
  private volatile boolean connectUnclaimed;

  /**
   * Counts the bytes moved, for the server framework's statistics ({@link
   * SocketAccess#attachMeter}); null on every other socket. Set before the socket is handed to the
   * threads that use it.
   */
  private Meter meter;

  private Socket(
      Family family, SocketKind kind, PolledChannel polled, long timeoutNanos, TlsEngine tls) {
    this.family = family;
    this.kind = kind;
    this.polled = polled;
    this.timeoutNanos = timeoutNanos;
    this.sendTimeoutNanos = timeoutNanos;
    this.tls = tls;
    this.datagramLock = kind == SocketKind.SOCK_STREAM ? null : new ReentrantLock();
  }

  /** A TCP/IPv4 socket, as Python's {@code socket.socket()}. */
  public static Socket create() throws IOException {
    return create(Family.AF_INET, SocketKind.SOCK_STREAM);
  }

  /**
   * A new socket of the given family and kind, as Python's {@code socket.socket(family, type)}. It
   * starts in the mode of {@link Sockets#getDefaultTimeout()}.
   *
   * @throws UnsupportedOperationException for AF_UNIX datagram sockets, which the JDK lacks (it has
   *     Unix-domain stream channels only)
   */
  public static Socket create(Family family, SocketKind kind) throws IOException {
    Objects.requireNonNull(family, "family");
    Objects.requireNonNull(kind, "kind");
    PolledChannel polled =
        kind == SocketKind.SOCK_STREAM ? openStream(family) : openDatagram(family);
    return new Socket(family, kind, polled, Sockets.defaultTimeoutNanos(), null);
  }

  /** The address family, as Python's {@code socket.family}. */
  public Family family() {
    return family;
  }

  /** The socket kind, as Python's {@code socket.type}. */
  public SocketKind kind() {
    return kind;
  }

  /**
   * Whether {@link #close()} has been called, or a {@link io.jsock.tls.TlsContext#wrap TLS wrap}
   * has detached the socket (its connection goes on in the TLS socket), as Python's {@code detach}
   * marks a socket closed.
   */
  public boolean isClosed() {
    return closed;
  }

  // ---------------------------------------------------------------- addresses and roles

  /**
   * Binds the socket to a local address, as Python's {@code bind(address)}.
   *
   * <p>An AF_UNIX path whose socket file is stale (left by a process that is gone: nothing accepts
   * connections on it) is removed and bound afresh; a path that a live socket listens on is in use,
   * as in Python.
   *
   * <p>A TCP socket bound to a port other than 0 binds with {@code SO_REUSEADDR} on unless it was
   * set off, as a JDK {@code ServerSocket} does (Python leaves it off): a server restarted on its
   * port is not refused it while connections it closed wait in TIME_WAIT. A listening socket on the
   * port still makes the bind fail, and a refused bind leaves the option off.
   *
   * <p>A TCP socket whose connection a reset closed binds again, as on Linux, unless it was bound
   * to a port of its own before it connected; it stays connected for the rest ({@code connect}
   * throws {@code EISCONN}). On the portable path that bind throws {@code EINVAL}. So does a TCP
   * listener that {@link #shutdown} stopped listening, unless the kernel picked its port: Linux
   * gave that back, and the socket binds again, then neither connects nor accepts ({@code EINVAL})
   * until it listens.
   *
   * @param address an {@link InetSocketAddress} (resolved now if unresolved, honouring the family)
   *     or, for AF_UNIX, a {@link UnixDomainSocketAddress}
   * @throws AddressInUseException if the address is taken
   */
  public void bind(SocketAddress address) throws IOException {
    SocketAddress local = checkAddress(address, "bind to");
    PolledChannel stopped;
    List<SocketSelector> registeredWith;
    synchronized (stateLock) {
      PolledChannel current = open("bind to", local);
      if (!isStoppedListenerWithPickedPort(current)) {
        bindChannel(current, local);
        return;
      }
      bindInPlaceOfStoppedListener(current, (InetSocketAddress) local);
      stopped = current;
      registeredWith = selectors;
    }
    retire(stopped, registeredWith);
  }

  /**
   * Whether the channel is a TCP listener that a shutdown stopped, and whose port the kernel picked
   * (bound to port 0, or not bound before listen): Linux has given that port back (a port given to
   * bind it stays), and its socket binds and listens again as one that was never bound, where the
   * JDK's channel keeps the port it was bound to. Guarded by stateLock.
   */
  private boolean isStoppedListenerWithPickedPort(PolledChannel current) {
    return listenerStopped
        && current.channel() instanceof ServerSocketChannel
        && !(boundAddress instanceof InetSocketAddress bound && bound.getPort() != 0);
  }

  /**
   * Binds a stopped listener whose port the kernel picked ({@link
   * #isStoppedListenerWithPickedPort}): a fresh stream channel with the socket's options takes its
   * place, bound to {@code local}; it stays stopped for connect ({@code EINVAL}) until {@link
   * #listen}. A bind refused leaves the listener in place, named as Linux names its socket then:
   * the wildcard address, with the old port. The caller retires the listener. Guarded by stateLock.
   */
  private void bindInPlaceOfStoppedListener(PolledChannel current, InetSocketAddress local)
      throws IOException {
    InetSocketAddress old = (InetSocketAddress) localAddressOf((NetworkChannel) current.channel());
    PolledChannel fresh = freshStream();
    try {
      bindChannel(fresh, local);
    } catch (IOException | RuntimeException e) {
      fresh.channel().close();
      if (e instanceof AddressInUseException && old != null) {
        // Linux set the address before it found the port taken, then cleared it
        reboundName =
            new InetSocketAddress(Addresses.anyLocal(family == Family.AF_INET6), old.getPort());
      }
      throw e;
    }
    polled = fresh;
    reboundName = null;
    inputShut = false; // Linux's disconnect of a listener leaves no shutdown on the socket
  }

  /** Binds the current channel, as {@link #bind(SocketAddress)} describes. Guarded by stateLock. */
  private void bindChannel(PolledChannel current, SocketAddress local) throws IOException {
    NetworkChannel channel = (NetworkChannel) current.channel();
    if (channel.getLocalAddress() != null) {
      // an AF_UNIX socket with a name: bound, or accepted (its listener's, as Linux gives it)
      boolean named =
          boundAddress instanceof UnixDomainSocketAddress
              || (channel.getLocalAddress() instanceof UnixDomainSocketAddress own
                  && !own.getPath().toString().isEmpty());
      if (!named
          && local instanceof UnixDomainSocketAddress unix
          && channel instanceof SocketChannel stream
          && stream.isConnected()) {
        bindConnected(current, unix); // a client that connected unbound, as Linux lets it
        return;
      }
      if (named
          && local instanceof UnixDomainSocketAddress unix
          && unix.getPath().toString().isEmpty()) {
        return; // Linux's autobind (the empty path) of a socket with a name does nothing
      }
      if (!(local instanceof InetSocketAddress
          && channel instanceof SocketChannel stream
          && stream.isConnected())) {
        throw Errors.of(Errno.EINVAL, "bind to", local); // already bound, as Linux says
      }
      // a TCP connection: the kernel decides (bindClosedConnection), SO_REUSEADDR as below
    }
    if (channel instanceof SocketChannel stream && stream.isConnectionPending()) {
      // the connect gave the socket its port, though the JDK's channel names none yet
      throw Errors.of(Errno.EINVAL, "bind to", local);
    }
    boolean reuseSet = false;
    if (channel instanceof SocketChannel stream
        && local instanceof InetSocketAddress inet
        && inet.getPort() != 0
        && !options.containsKey(StandardSocketOptions.SO_REUSEADDR)
        && !stream.getOption(StandardSocketOptions.SO_REUSEADDR)) {
      // as a JDK ServerSocket binds: the port is taken here, before listen() can give the
      // listener SO_REUSEADDR, and connections a previous server closed may hold it in TIME_WAIT
      // (port 0 is left alone: the kernel picks a free port, and would then consider ports
      // that TIME_WAIT connections hold, which a client bound to a source address can trip on).
      // Only when off, so that a refused bind restores what was: a connected socket may have it
      // on (accepted from a listener that had it, or bound to a port by jsock before)
      stream.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      reuseSet = true;
    }
    try {
      if (channel instanceof SocketChannel stream && stream.isConnected()) {
        bindClosedConnection(current, (InetSocketAddress) local);
      } else {
        channel.bind(local);
      }
    } catch (IOException e) {
      IOException failure = Errors.translate(e, "bind to", local);
      if (reuseSet) {
        // a refused bind leaves the socket as it was, as Python's (a later bind to port 0
        // would pick its port with it on)
        try {
          ((SocketChannel) channel).setOption(StandardSocketOptions.SO_REUSEADDR, false);
        } catch (IOException | RuntimeException unset) {
          failure.addSuppressed(unset);
        }
      }
      if (!(failure instanceof AddressInUseException
          && local instanceof UnixDomainSocketAddress unix
          && UnixSocketFiles.removeIfStale(unix))) {
        throw failure;
      }
      try {
        channel.bind(local);
      } catch (IOException again) {
        throw Errors.translate(again, "bind to", local);
      }
    }
    boundAddress = local;
    connectingFrom = null; // a bind after a failed connect: its address from now on
    if (channel instanceof DatagramChannel) {
      receivingOn = localAddressOf(channel); // the port picked for port 0, for messages
    }
    if (local instanceof UnixDomainSocketAddress unix) {
      boundFileIdentity = UnixSocketFiles.identity(unix.getPath());
    }
  }

  /**
   * Binds a TCP socket that the JDK's channel holds connected through {@code bind(2)}, where jsock
   * calls the kernel (the epoll path): Linux binds it once a reset has closed its connection and
   * given back the port the kernel picked (a port given to bind stays), and it stays connected for
   * the rest ({@code EISCONN}, python3 shows it); while the connection lives {@code EINVAL}, as
   * elsewhere, where the JDK's channel cannot bind it. The kernel's name for it is kept for {@link
   * #getSockName}, which the channel would answer with the port it had. Guarded by stateLock.
   */
  private void bindClosedConnection(PolledChannel current, InetSocketAddress local)
      throws IOException {
    int fd = current.enterAnyCall();
    if (fd < 0) {
      throw Errors.of(Errno.EINVAL, "bind to", local);
    }
    try {
      StreamCalls.bindInet(fd, local, family == Family.AF_INET6);
      reboundName = StreamCalls.localAddress(fd);
    } catch (StreamCalls.Failed e) {
      IOException failure = Errors.of(e.errno(), "bind to", local);
      if (e.errno() == Errno.EADDRINUSE) {
        // Linux set the address before it found the port taken, then cleared it (the old port
        // stays in the name): getsockname gives 0.0.0.0 or ::, as python3 shows
        try {
          reboundName = StreamCalls.localAddress(fd);
        } catch (StreamCalls.Failed unnamed) {
          failure.addSuppressed(Errors.of(unnamed.errno(), "getsockname", null));
        }
      }
      throw failure;
    } finally {
      current.exitCall();
    }
  }

  /**
   * Binds a connected AF_UNIX socket that connected unbound, which Linux (and so Python) allows and
   * the JDK's channel refuses: through {@code bind(2)} where jsock calls the kernel (the epoll
   * path); elsewhere {@code EINVAL}, as before. Guarded by stateLock.
   */
  private void bindConnected(PolledChannel current, UnixDomainSocketAddress local)
      throws IOException {
    int fd = current.enterAnyCall();
    if (fd < 0) {
      throw Errors.of(Errno.EINVAL, "bind to", local); // the JDK's channel cannot
    }
    try {
      byte[] path = UnixSocketFiles.pathBytes(local.getPath());
      try {
        StreamCalls.bindUnix(fd, path);
      } catch (StreamCalls.Failed e) {
        IOException failure = Errors.of(e.errno(), "bind to", local);
        if (!(failure instanceof AddressInUseException && UnixSocketFiles.removeIfStale(local))) {
          throw failure;
        }
        try {
          StreamCalls.bindUnix(fd, path);
        } catch (StreamCalls.Failed again) {
          throw Errors.of(again.errno(), "bind to", local);
        }
      }
    } finally {
      current.exitCall();
    }
    boundAddress = local;
    boundFileIdentity = UnixSocketFiles.identity(local.getPath());
  }

  /**
   * Binds to {@code (host, port)}, as Python's {@code bind((host, port))}: {@code ""} means every
   * interface, a name is resolved now for this socket's family.
   */
  public void bind(String host, int port) throws IOException {
    bind(inetAddress(host, port, "bind to"));
  }

  /** Starts listening with a backlog of 128, as Python's {@code listen()}. */
  public void listen() throws IOException {
    listen(DEFAULT_BACKLOG);
  }

  /**
   * Starts listening for connections, as Python's {@code listen(backlog)}; an unbound TCP socket is
   * first bound to an ephemeral port on every interface, as Linux does. Listening sockets have
   * {@code SO_REUSEADDR} on unless it was set off, as in the JDK and Python's {@code
   * create_server}. A TCP listener that {@link #shutdown} stopped listens again, on a new port if
   * the kernel had picked its port (Linux gave that back at the shutdown), and a listener takes the
   * new backlog, as on Linux (on the portable path the JDK's listener keeps its first).
   *
   * @param backlog how many connections the kernel queues before {@link #accept()} takes them
   * @throws ErrnoException with {@link Errno#EINVAL} if the socket is connected or, over TCP, has
   *     tried to connect (even if that failed), or is an AF_UNIX socket that is not bound, as Linux
   *     answers
   */
  public void listen(int backlog) throws IOException {
    if (backlog < 0) {
      throw new IllegalArgumentException("backlog must not be negative: " + backlog);
    }
    PolledChannel replaced;
    List<SocketSelector> registeredWith;
    synchronized (stateLock) {
      PolledChannel current = open("listen on", null);
      if (current.channel() instanceof ServerSocketChannel listening) {
        if (!isStoppedListenerWithPickedPort(current)) {
          listenAgain(current, listening, backlog);
          return;
        }
        // Linux gave the port back when the shutdown stopped it: a new one, on the address it
        // had (the wildcard once a bind found a port taken)
        InetSocketAddress name =
            reboundName != null ? reboundName : (InetSocketAddress) localAddressOf(listening);
        listenInPlaceOf(listening, new InetSocketAddress(name.getAddress(), 0), backlog);
      } else {
        SocketChannel unbound = unboundStream(current);
        listenInPlaceOf(unbound, localAddressOf(unbound), backlog);
      }
      replaced = current;
      registeredWith = selectors;
    }
    retire(replaced, registeredWith);
  }

  /**
   * The stream channel that {@link #listen} replaces with a listener, or the error Linux gives
   * listen on this socket. Guarded by stateLock.
   */
  private SocketChannel unboundStream(PolledChannel current) throws IOException {
    if (current.channel() instanceof DatagramChannel) {
      throw Errors.of(Errno.EOPNOTSUPP, "listen on", getSockName());
    }
    SocketChannel unbound = (SocketChannel) current.channel();
    if (unbound.isConnected() || unbound.isConnectionPending()) {
      // named by its own address, as every refused listen (the peer's is not listened on)
      SocketAddress local = getSockName();
      throw cannotListen(
          local instanceof UnixDomainSocketAddress unix && unix.getPath().toString().isEmpty()
              ? null
              : local,
          unbound.isConnected() ? "the socket is connected" : "a connect is in progress");
    }
    if (connectTried && family.isInet()) {
      // named as getSockName names it (a socket bound to port 0 keeps its port's name)
      throw cannotListen(
          localAddressOf(unbound) == null ? null : getSockName(),
          "the socket has tried to connect");
    }
    if (family == Family.AF_UNIX && localAddressOf(unbound) == null) {
      // Linux gives an unbound AF_UNIX socket no path to listen on (the JDK would bind one in
      // the temporary directory, and leave its file there)
      throw cannotListen(null, "an AF_UNIX socket must be bound first");
    }
    return unbound;
  }

  /**
   * Puts a new listener on {@code local} in the place of the current channel, {@code holder}, which
   * holds {@code local}'s port meanwhile; the caller retires it. Guarded by stateLock.
   */
  private void listenInPlaceOf(NetworkChannel holder, SocketAddress local, int backlog)
      throws IOException {
    PolledChannel listener = openListener(holder, local, backlog);
    listeningOn = localAddressOf((NetworkChannel) listener.channel());
    polled = listener;
    listenerStopped = false;
    reboundName = null;
  }

  /**
   * Closes a channel that a new one has replaced ({@link #listen}, or a {@link #bind} of a stopped
   * listener), once the selectors that held it have moved this socket's registration to the new one
   * and let it go: the JDK would close it only at their next select, and Python's socket stays one
   * descriptor, watched throughout. Not under stateLock: a selector's lock comes first.
   */
  private void retire(PolledChannel old, List<SocketSelector> registeredWith) {
    for (SocketSelector selector : registeredWith) {
      selector.moved(this, old.channel());
    }
    closeQuietly(old);
  }

  /**
   * Waits for a connection and returns it with the peer's address, as Python's {@code accept()}.
   * The new socket starts in the mode of {@link Sockets#getDefaultTimeout()}, as in Python.
   */
  public Accepted accept() throws IOException {
    PolledChannel current = polled;
    if (!(current.channel() instanceof ServerSocketChannel listener)) {
      ensureOpen("accept on");
      if (kind == SocketKind.SOCK_DGRAM) {
        throw Errors.of(Errno.EOPNOTSUPP, "accept on", getSockName());
      }
      throw Errors.of(Errno.EINVAL, "accept on", getSockName()); // not listening, as Linux says
    }
    long deadline = Timeouts.NOT_STARTED;
    current.enterReading(); // several threads may accept at once
    try {
      while (true) {
        SocketChannel conn;
        try {
          conn = listener.accept();
        } catch (IOException e) {
          throw failure(e, "accept on", acceptingOn(listener));
        }
        if (conn != null) {
          return wrapAccepted(conn);
        }
        if (unixListenerShut && timeoutNanos != Timeouts.NON_BLOCKING) {
          // Linux's blocking accept on an AF_UNIX listener shut down for reading, once its queue
          // is empty (poll would report the listener readable for ever: a wait would never end)
          throw Errors.of(Errno.EINVAL, "accept on", acceptingOn(listener));
        }
        deadline =
            await(current, SelectionKey.OP_ACCEPT, deadline, "accept on", acceptingOn(listener));
      }
    } finally {
      current.exitReading();
    }
  }

  /**
   * The listener's address for accept's messages: as the channel has it, or, once a close (by
   * another thread, perhaps during the call) has taken it from the channel, as it was.
   */
  private SocketAddress acceptingOn(ServerSocketChannel listener) {
    SocketAddress local = localAddressOf(listener);
    return local != null ? local : listeningOn;
  }

  /**
   * Connects to a remote address, as Python's {@code connect(address)}.
   *
   * <p>A UDP socket then sends to that peer and receives from it only; datagrams that came before
   * the connect are still received first, as on Linux. Unlike Linux, one that arrives while the
   * connect runs can be lost: jsock takes the queue first, and the JDK's connect then discards
   * whatever has come meanwhile.
   *
   * <p>An AF_UNIX connect to a listener whose queue is full waits in blocking mode until the
   * listener accepts, as Linux's does; in non-blocking and timeout modes it throws {@link
   * WouldBlockException} with {@link Errno#EAGAIN} at once, as CPython's does.
   *
   * @throws ConnectionRefusedException if nothing listens there
   * @throws java.net.SocketTimeoutException if the timeout passes first
   * @throws WouldBlockException in non-blocking mode, with {@link Errno#EINPROGRESS}: the
   *     connection goes on, and a later {@code connect} to the same address completes it
   */
  public void connect(SocketAddress address) throws IOException {
    SocketAddress target = checkAddress(address, "connect to");
    if (kind == SocketKind.SOCK_DGRAM) {
      connectDatagram(target);
      return;
    }
    // the mode at the call, as the kernel takes it: another thread's setTimeout or setBlocking
    // does not end a blocking connect's wait for room (Python's goes on waiting in the kernel)
    boolean blocking = timeoutNanos == Timeouts.BLOCKING;
    long pauseMillis = 1;
    while (true) {
      try {
        connectStream(target);
        return;
      } catch (WouldBlockException e) {
        if (family != Family.AF_UNIX || !blocking || e.errno() != Errno.EAGAIN) {
          throw e;
        }
        // The listener's queue is full. Linux's blocking connect waits in the kernel until the
        // listener accepts; a non-blocking socket (as every channel is underneath) is told EAGAIN,
        // and nothing it can poll tells when there is room: so look again, less often as it lasts.
        pauseBeforeConnectingAgain(pauseMillis, target);
        pauseMillis = Math.min(pauseMillis * 2, MAX_CONNECT_PAUSE_MILLIS);
      }
    }
  }

  /**
   * The pause before a blocking AF_UNIX connect tries again (see {@link #connect(SocketAddress)});
   * an interrupt ends it, and a close in the meantime fails the next try.
   */
  private static void pauseBeforeConnectingAgain(long millis, SocketAddress target)
      throws IOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Errors.interrupted("connect to", target, e);
    }
  }

  private void connectStream(SocketAddress target) throws IOException {
    PolledChannel current = connectingChannel(target);
    SocketChannel channel = (SocketChannel) current.channel();
    if (channel.isConnected()) {
      connectUnclaimed = false; // completed by another call since it was started: claimed now
      return;
    }
    // Started at the first wait, which waits however short the timeout, as CPython's connect
    // polls once with it: a deadline started before the connect could pass before any look.
    long deadline = Timeouts.NOT_STARTED;
    // a connect of CPython's in timeout mode that waits takes the error from SO_ERROR, not from a
    // connect call: only then does the socket stay connecting (see connectAborted)
    boolean polledForIt = false;
    try {
      boolean pending = channel.isConnectionPending();
      if (pending && timeoutNanos != Timeouts.BLOCKING && !target.equals(pendingTarget)) {
        // a connect while one is in progress (non-blocking, or after a timeout): only the same
        // address carries the first attempt on, but one that has ended gives its outcome, as
        // Linux's connect looks at the socket's state first. A blocking one waits for the attempt
        // in progress and reports its outcome, whatever its own address, as Linux's does (and so
        // does not depend on whether another thread's connect has recorded its target yet).
        SocketAddress first = pendingTarget != null ? pendingTarget : target;
        boolean ended;
        try {
          ended = finishConnect(current);
        } catch (IOException e) {
          throw connectFailed(current, e, "connect to", first);
        }
        if (!ended) {
          throw Errors.of(Errno.EALREADY, "connect to", target);
        }
        peer = channel.getRemoteAddress();
        connectUnclaimed = false; // this connect looked: the next says EISCONN
        return;
      }
      connectTried = true;
      // a new attempt: a port of its own; one bound to port 0 names the port it has now once the
      // attempt failed, as Linux's (the fresh channel jsock binds again has another)
      SocketAddress from = null;
      if (!pending) {
        from =
            boundAddress instanceof InetSocketAddress bound && bound.getPort() == 0
                ? localAddressOf(channel)
                : null;
        if (from == null || connectingFrom == null) {
          connectingFrom = from; // an earlier attempt's port is named until this one takes one
        }
      }
      boolean connected = pending ? finishConnect(current) : connectChannel(current, target, from);
      if (!pending) {
        pendingTarget = target;
      }
      current.enterWriting(); // the connect's one edge may have to reach several waiting threads
      try {
        while (!connected) {
          if (timeoutNanos == Timeouts.NON_BLOCKING || (pending && timeoutNanos > 0)) {
            // as Linux answers on a non-blocking descriptor (Python's timeout mode is one): a
            // connect still in progress is EALREADY at once, one that has ended gave its outcome
            throw Errors.of(pending ? Errno.EALREADY : Errno.EINPROGRESS, "connect to", target);
          }
          deadline = await(current, SelectionKey.OP_CONNECT, deadline, "connect to", target);
          polledForIt = !pending && timeoutNanos > 0;
          connected = finishConnect(current, polledForIt ? target : null);
        }
      } finally {
        current.exitWriting();
      }
      peer = channel.getRemoteAddress();
      // A selector's completeConnect may have finished it meanwhile: this connect has looked. But
      // one in timeout mode that waited took its outcome from SO_ERROR, as CPython's does: Linux's
      // socket stays connecting, so the next connect still returns 0 (Python's connect_ex).
      connectUnclaimed = polledForIt;
    } catch (IOException e) {
      if (e instanceof ClosedChannelException && !closed) {
        throwIfConnectAborted(target); // another call took the error meanwhile, as Linux's
      }
      throw connectFailed(current, e, "connect to", target);
    }
  }

  /**
   * The JDK's {@code connect}, under stateLock and the channel's monitor: when a connect fails the
   * JDK closes the channel, and neither {@link #shutdownUnconnected} (under stateLock) nor the
   * channel's epoll registration (under its monitor, see {@link PolledChannel#connectStep}) must
   * call on the descriptor's number while that happens (the number may be another socket's a moment
   * later). {@code from} is the address a socket bound to port 0 had when the attempt started, else
   * null: what {@link #connectingFrom} names once the attempt is under way.
   */
  private boolean connectChannel(PolledChannel current, SocketAddress target, SocketAddress from)
      throws IOException {
    synchronized (stateLock) {
      if (((SocketChannel) current.channel()).isConnected()) {
        // completed since connectStream looked (by another thread's send, recv, select or
        // connect): answered as connectingChannel does, where the JDK's connect would throw its
        // unchecked AlreadyConnectedException
        if (!connectUnclaimed) {
          throw Errors.of(Errno.EISCONN, "connect to", target);
        }
        return true; // this connect completes it, as Linux's (claimed by connectStream)
      }
      boolean connected = current.connectStep(channel -> channel.connect(target));
      // the attempt has taken its port (one that failed at once took none: Linux's socket names
      // the port it had, which connectStream kept)
      SocketAddress chosen = null;
      if (!connected) {
        // the JDK's failing finishConnect closes the descriptor, and the error may be taken by a
        // call other than a connect (a selector's, a recv's on another thread, which need this
        // lock): keep the address now (a blocking connect's port too, as Linux)
        chosen = portChosenForAConnect(current);
      }
      connectingFrom = chosen != null ? chosen : from; // (the portable path: what was noted)
      return connected;
    }
  }

  /**
   * The JDK's {@code finishConnect}, under stateLock and the monitor, as {@link #connectChannel}.
   */
  private boolean finishConnect(PolledChannel current) throws IOException {
    return finishConnect(current, null);
  }

  /**
   * {@link #finishConnect(PolledChannel)}, noting a failure as one no connect call took ({@link
   * #noteConnectAborted}) if {@code leftConnecting} is not null (the address tried): in the same
   * stateLock as the JDK's close of the channel, so that a connect on another thread never finds
   * the channel closed without the note (it opened a fresh one and started a new attempt, where
   * Linux says ECONNABORTED).
   */
  private boolean finishConnect(PolledChannel current, SocketAddress leftConnecting)
      throws IOException {
    synchronized (stateLock) {
      try {
        return current.connectStep(SocketChannel::finishConnect);
      } catch (IOException e) {
        if (leftConnecting != null) {
          noteConnectAborted(current, e, leftConnecting);
        }
        throw e;
      }
    }
  }

  /**
   * Throws ECONNABORTED if another call took a connect's error meanwhile, as Linux's connect says
   * to a socket left connecting (see {@link #connectAborted}); which it then is no more.
   */
  private void throwIfConnectAborted(SocketAddress target) throws IOException {
    synchronized (stateLock) {
      if (connectAborted != null && !connectAbortedShut) {
        connectAborted = null;
        throw Errors.of(Errno.ECONNABORTED, "connect to", target);
      }
    }
  }

  /** Connects to {@code (host, port)}, resolving the host now for this socket's family. */
  public void connect(String host, int port) throws IOException {
    connect(inetAddress(host, port, "connect to"));
  }

  /**
   * Connects as {@link #connect(SocketAddress)} does, but returns the error number instead of
   * throwing for errors of the connection itself, as Python's {@code connect_ex}: 0 on success,
   * {@link Errno#ECONNREFUSED}, {@link Errno#EINPROGRESS}, {@link Errno#EAGAIN} when the timeout
   * passed (as CPython), {@link Errno#ETIMEDOUT} when the kernel gave up on its SYNs, {@link
   * Errno#EBADF} on a closed socket, …. Invalid arguments and unresolvable hosts still throw, as in
   * Python.
   */
  public int connectEx(SocketAddress address) throws IOException {
    SocketAddress target = checkAddress(address, "connect to");
    try {
      connect(target);
      return 0;
    } catch (ConnectionTimedOutException e) {
      return e.errno(); // the kernel's ETIMEDOUT (SYNs unanswered), not a timeout of jsock's
    } catch (java.net.SocketTimeoutException e) {
      return Errno.EAGAIN; // as CPython's connect_ex reports its own timeout
    } catch (AddressResolutionException e) {
      throw e;
    } catch (IOException e) {
      if (e instanceof SocketError error) {
        return error.errno();
      }
      throw e;
    }
  }

  /** {@link #connectEx(SocketAddress)} to {@code (host, port)}. */
  public int connectEx(String host, int port) throws IOException {
    return connectEx(inetAddress(host, port, "connect to"));
  }

  /**
   * The local address, as Python's {@code getsockname()}: the wildcard address and port 0 before
   * {@code bind}, the actual port after binding to port 0.
   */
  public SocketAddress getSockName() throws IOException {
    PolledChannel current = open("getsockname", null);
    SocketAddress rebound = reboundName;
    if (rebound != null) {
      return rebound; // only another bind changes it: a connect says EISCONN, listen EINVAL
    }
    SocketAddress kept = connectingFrom;
    if (kept != null && connectAborted != null) {
      return kept; // left connecting by a failed connect: Linux's socket keeps its address
    }
    SocketAddress local = unnamed ? null : localAddressOf((NetworkChannel) current.channel());
    if (local instanceof UnixDomainSocketAddress unix
        && unix.getPath().toString().isEmpty()
        && boundAddress instanceof UnixDomainSocketAddress bound) {
      return bound; // bound once connected (the JDK's channel keeps the name it had at connect)
    }
    if (kept instanceof InetSocketAddress from
        && local instanceof InetSocketAddress fresh
        && fresh.getPort() != from.getPort()
        && boundAddress instanceof InetSocketAddress bound
        && bound.getPort() == 0
        && current.channel() instanceof SocketChannel stream
        && !stream.isConnected()
        && !stream.isConnectionPending()) {
      // bound to port 0, then a failed connect: Linux's socket has given the port back, yet names
      // it still with the address bound to (python3), until the next attempt takes another
      return new InetSocketAddress(fresh.getAddress(), from.getPort());
    }
    if (local != null) {
      return local;
    }
    // a close by another thread meanwhile leaves the channel no address: that is no unbound socket
    open("getsockname", null);
    SocketAddress chosen = portChosenForAConnect(current);
    if (chosen != null) {
      return chosen;
    }
    if (kept instanceof InetSocketAddress from) {
      // unconnected after a failed connect (ECONNABORTED, or a connect took the error): Linux's
      // socket keeps the port, its address reset to the wildcard
      return new InetSocketAddress(Addresses.anyLocal(family == Family.AF_INET6), from.getPort());
    }
    return family.isInet()
        ? new InetSocketAddress(Addresses.anyLocal(family == Family.AF_INET6), 0)
        : UnixDomainSocketAddress.of("");
  }

  /**
   * The address and port the kernel chose for a TCP connect still in progress (or timed out), which
   * the JDK's channel learns only once the connect completes; null where there is none, or the
   * descriptor is not at hand (the portable path).
   */
  private SocketAddress portChosenForAConnect(PolledChannel current) throws IOException {
    if (kind != SocketKind.SOCK_STREAM || !family.isInet() || !connectTried) {
      return null;
    }
    // under stateLock, as shutdownUnconnected: a failed connect's JDK closes the descriptor under
    // stateLock before replaceClosedStream closes `current`, and the number may be another
    // socket's by the time enterCall would still hand it out
    synchronized (stateLock) {
      if (!(current.channel() instanceof SocketChannel stream && stream.isOpen())) {
        return null;
      }
      int fd = current.enterCall(); // a stream's descriptor on the epoll path, else -1
      if (fd < 0) {
        return null;
      }
      try {
        InetSocketAddress kernel = StreamCalls.localAddress(fd);
        return kernel != null && kernel.getPort() != 0 ? kernel : null;
      } catch (StreamCalls.Failed e) {
        throw Errors.of(e.errno(), "getsockname", null);
      } finally {
        current.exitCall();
      }
    }
  }

  /**
   * The peer's address, as Python's {@code getpeername()}.
   *
   * @throws ErrnoException with {@link Errno#ENOTCONN} if the socket is not connected, or (on the
   *     epoll path, where the kernel is asked, as Python does) no longer: a TCP connection that the
   *     peer reset, or whose close both sides have completed, has no peer left
   */
  public SocketAddress getPeerName() throws IOException {
    claimKernelConnect();
    PolledChannel current = connected("getpeername");
    checkPeerInKernel(current, "getpeername");
    if (peer instanceof UnixDomainSocketAddress unix
        && unix.getPath().toString().isEmpty()
        && !unnamed) { // the kernel names a socketPair's listener, gone, as one end's peer
      namePeerIfBound(current);
    }
    return peer;
  }

  /**
   * An AF_UNIX peer that was unnamed when it connected (an accept gave {@code ""}) may have bound
   * since, which Linux allows: its name is then the kernel's, as Python's {@code getpeername} gives
   * it, kept from then on (a socket binds once). Where jsock calls the kernel (the epoll path).
   */
  private void namePeerIfBound(PolledChannel current) throws IOException {
    int fd = current.enterCall();
    if (fd < 0) {
      return;
    }
    try {
      byte[] path = StreamCalls.peerUnixPath(fd);
      if (path.length > 0 && path[0] != 0) { // an abstract name is none the JDK can hold
        peer = UnixDomainSocketAddress.of(new String(path, PATH_CHARSET));
      }
    } catch (StreamCalls.Failed e) {
      throw Errors.of(e.errno(), "getpeername", peer);
    } finally {
      current.exitCall();
    }
  }

  /**
   * Completes in the JDK's channel a TCP connect in progress that the kernel has completed (its
   * {@code getpeername(2)} answers), as Linux's socket is connected by then for {@code getpeername}
   * and {@code shutdown}, though no call has looked; the next {@code connect} still returns at once
   * without error ({@link #connectUnclaimed}). Only where the descriptor is at hand (the epoll
   * path): the JDK's {@code finishConnect} would take a failed connect's error, which Linux keeps
   * for the next connect, send or receive. Not on a hot path.
   */
  private void claimKernelConnect() {
    PolledChannel current = polled;
    if (peer != null
        || !family.isInet()
        || !(current.channel() instanceof SocketChannel stream)
        || !stream.isConnectionPending()) {
      return;
    }
    // under stateLock, as portChosenForAConnect: the number may be another socket's once a failed
    // connect's JDK has closed it
    synchronized (stateLock) {
      if (!stream.isOpen()) {
        return;
      }
      int fd = current.enterCall(); // a stream's descriptor on the epoll path, else -1
      if (fd < 0) {
        return;
      }
      try {
        StreamCalls.checkPeer(fd);
      } catch (StreamCalls.Failed inProgressOrFailed) {
        return; // as it was: the connect, or what it failed with, is the next call's
      } finally {
        current.exitCall();
      }
    }
    completeConnect();
  }

  /**
   * Asks the kernel whether a connected stream still has its peer ({@code getpeername(2)}), where
   * its descriptor is at hand (the epoll path): {@link Errno#ENOTCONN} once a TCP connection was
   * reset, or both sides' closes have completed. The portable path cannot ask.
   */
  private void checkPeerInKernel(PolledChannel current, String operation) throws IOException {
    int fd = current.enterCall(); // a stream's descriptor on the epoll path, else -1
    if (fd < 0) {
      return;
    }
    try {
      StreamCalls.checkPeer(fd);
    } catch (StreamCalls.Failed e) {
      throw Errors.of(e.errno(), operation, peer);
    } finally {
      current.exitCall();
    }
  }

  /**
   * Whether this is a TLS socket holding received input that its channel's readiness cannot show
   * (see {@link TlsEngine#hasBufferedInput()}); for {@link SocketSelector}.
   */
  boolean hasBufferedTlsInput() {
    return tls != null && tls.hasBufferedInput();
  }

  /** Whether this socket speaks TLS; for {@link SocketSelector}. */
  boolean isTls() {
    return tls != null;
  }

  // ---------------------------------------------------------------- data

  /**
   * Receives up to {@code bufsize} bytes, as Python's {@code recv(bufsize)}: waits (in blocking and
   * timeout modes) until at least one byte is there, and returns an empty array at the orderly end
   * of the stream, never {@code null}. {@code recv(0)} returns an empty array at once, connected or
   * not, as CPython's asks the kernel nothing: on a datagram socket the next datagram stays queued.
   * Otherwise on a datagram socket it receives one datagram, which must fit (see {@link
   * #recvFrom(int)}).
   *
   * @throws ConnectionResetException if the peer reset the connection
   * @throws ErrnoException with {@link Errno#ENOTCONN} on a TCP socket that is not connected
   *     ({@link Errno#EINVAL} over AF_UNIX), as Linux answers, unless a shutdown for reading came
   *     first (end of stream, as Linux's, on the epoll path); one whose connect is in progress
   *     (non-blocking, or after a timeout) waits for it within the timeout and then receives, as
   *     Linux's {@code recv(2)} does ({@link WouldBlockException} in non-blocking mode), and throws
   *     the connect's error if it fails; after which, as after a timeout-mode connect that failed,
   *     it returns an empty array (the end of the stream) until the next connect, as Linux's
   */
  public byte[] recv(int bufsize) throws IOException {
    checkBufsize(bufsize);
    if (bufsize == 0) {
      open("recv from", peer);
      return EMPTY;
    }
    if (kind == SocketKind.SOCK_DGRAM) {
      return recvFrom(bufsize).data();
    }
    if (tls == null) {
      byte[] pooled = recvPooled(bufsize);
      if (pooled != null) {
        return pooled;
      }
    }
    byte[] data = new byte[Math.min(bufsize, MAX_TRANSFER)];
    int n = recvInto(ByteBuffer.wrap(data));
    return n == data.length ? data : Arrays.copyOf(data, n);
  }

  /**
   * {@code recv} through a shared scratch buffer (see {@link ScratchBuffers}): the buffer is taken
   * for one non-blocking read and given back before any wait, so a connection waiting for data
   * holds none, and what is returned is an array of exactly the bytes that came. {@code null} when
   * no scratch buffer is free (the caller reads on its own).
   */
  private byte[] recvPooled(int bufsize) throws IOException {
    PolledChannel current = receiving("recv from");
    if (current == null) {
      return EMPTY;
    }
    long deadline = awaitConnected(current, "recv from"); // at once unless a connect goes on
    current.enterReading(); // several threads may receive at once
    try {
      while (true) {
        deadline = awaitIfKnownEmpty(current, deadline);
        Scratch scratch = ScratchBuffers.take();
        if (scratch == null) {
          return null;
        }
        int n;
        try {
          ByteBuffer buffer = scratch.buffer();
          buffer.limit(Math.min(bufsize, buffer.capacity()));
          n = readStream(current, buffer, scratch.address());
          if (n > 0) {
            byte[] data = new byte[n];
            buffer.flip().get(data);
            return data;
          }
        } finally {
          ScratchBuffers.give(scratch);
        }
        if (n < 0) {
          return EMPTY;
        }
        deadline = await(current, SelectionKey.OP_READ, deadline, "recv from", peer);
      }
    } finally {
      current.exitReading();
    }
  }

  /**
   * Receives into the buffer's remaining space, as Python's {@code recv_into(buffer)}, and returns
   * the number of bytes received: 0 at the orderly end of the stream, or at once if the buffer has
   * no room (as {@code recv(0)}, leaving a datagram queued). A direct buffer is filled without
   * copying. On a datagram socket it receives one datagram, which must fit (see {@link
   * #recvFrom(int)}).
   */
  public int recvInto(ByteBuffer buffer) throws IOException {
    checkWritable(buffer);
    if (!buffer.hasRemaining()) {
      open("recv from", peer);
      return 0;
    }
    if (kind == SocketKind.SOCK_DGRAM) {
      int start = buffer.position();
      recvFromInto(buffer);
      return buffer.position() - start;
    }
    PolledChannel current = receiving("recv from");
    if (current == null) {
      return 0;
    }
    if (tls != null) {
      long timeout = timeoutNanos; // the call's mode, kept if another thread changes it
      return tls.read(buffer, Timeouts.deadline(timeout), timeout == Timeouts.NON_BLOCKING);
    }
    long deadline = awaitConnected(current, "recv from"); // at once unless a connect goes on
    current.enterReading();
    try {
      while (true) {
        deadline = awaitIfKnownEmpty(current, deadline);
        int n = readStream(current, buffer, UNKNOWN_ADDRESS);
        if (n != 0) {
          return Math.max(n, 0);
        }
        deadline = await(current, SelectionKey.OP_READ, deadline, "recv from", peer);
      }
    } finally {
      current.exitReading();
    }
  }

  /**
   * A stream's {@code recvFrom(0)} (or {@code recvFromInto} of no room): Python's asks the kernel,
   * as its {@code recv(0)} does not, and Linux's {@code recvfrom(2)} of no bytes takes nothing yet
   * waits (in blocking and timeout modes; {@link WouldBlockException} in non-blocking mode) until
   * data is queued or the stream has ended, and reports a reset. On the portable path, which has no
   * such call, it waits for the channel to be readable, and a reset is left to the next receive.
   * Over TLS it waits likewise for plaintext or the end of the TLS stream, taking none.
   */
  private void recvNothing(PolledChannel current) throws IOException {
    if (tls != null) {
      long timeout = timeoutNanos; // the call's mode, as recvInto reads it
      tls.read(
          ByteBuffer.allocate(0), Timeouts.deadline(timeout), timeout == Timeouts.NON_BLOCKING);
      return;
    }
    long deadline = awaitConnected(current, "recv from"); // at once unless a connect goes on
    current.enterReading();
    try {
      while (!readNothing(current)) {
        deadline = await(current, SelectionKey.OP_READ, deadline, "recv from", peer);
      }
      // recvfrom(2) of no bytes reports the reset a blocking send left once nothing is queued
      if (resetPending && unreadInKernel(current, "recv from") == 0 && takePendingReset()) {
        throw Errors.of(Errno.ECONNRESET, "recv from", peer);
      }
    } finally {
      current.exitReading();
    }
  }

  /**
   * One non-blocking {@code recv(2)} of no bytes (see {@link #recvNothing}): whether it returned,
   * data being queued or the stream ended; false if it would block.
   */
  private boolean readNothing(PolledChannel current) throws IOException {
    int fd = current.enterCall();
    if (fd < 0) {
      // the portable path, or closing (the wait reports a close): readable means data queued, the
      // end of the stream, or a reset (which the next receive reports)
      try {
        return inputShut || resetReported || current.isReadableNow();
      } catch (IOException e) {
        throw failure(e, "recv from", peer);
      }
    }
    MemorySegment state = current.takeState(false);
    try {
      return StreamCalls.recvEmpty(fd, state); // a reset left pending: see recvNothing
    } catch (StreamCalls.Failed e) {
      throw Errors.of(e.errno(), "recv from", peer);
    } finally {
      current.giveState(false, state);
      current.exitCall();
    }
  }

  /**
   * A receive's read of a stream, noting a short one (see {@link PolledChannel#isKnownEmpty}).
   *
   * @param address a scratch buffer's address, else {@link StreamCalls#UNKNOWN_ADDRESS}
   */
  private int readStream(PolledChannel current, ByteBuffer buffer, long address)
      throws IOException {
    // what the one read system call asks for (readSome reads a large heap buffer a slice at a time)
    int requested =
        buffer.isDirect() ? buffer.remaining() : Math.min(buffer.remaining(), MAX_TRANSFER);
    int n;
    try {
      n = readSome(current, buffer, address);
    } catch (IOException e) {
      throw failure(e, "recv from", peer);
    }
    if (n > 0 && n < requested && family != Family.AF_UNIX && !inputShut) {
      current.readCameShort();
    } else if (n < 0 && takePendingReset()) {
      throw Errors.of(Errno.ECONNRESET, "recv from", peer);
    }
    return n;
  }

  /**
   * In blocking and timeout modes, waits before reading when the read is known to find nothing (the
   * last one came back short and no edge has come since): one system call fewer per message.
   * Returns the deadline, as {@link #await} does.
   */
  private long awaitIfKnownEmpty(PolledChannel current, long deadline) throws IOException {
    if (timeoutNanos != Timeouts.NON_BLOCKING && !inputShut && current.isKnownEmpty()) {
      return await(current, SelectionKey.OP_READ, deadline, "recv from", peer);
    }
    return deadline;
  }

  /**
   * Receives up to {@code nbytes} bytes into the start of {@code buf}, as Python's {@code
   * recv_into(buffer, nbytes)}; {@code nbytes} 0 means the whole array.
   */
  public int recvInto(byte[] buf, int nbytes) throws IOException {
    Objects.requireNonNull(buf, "buf");
    if (nbytes < 0) {
      throw new IllegalArgumentException("nbytes must not be negative: " + nbytes);
    }
    if (nbytes > buf.length) {
      throw new IllegalArgumentException(
          "nbytes exceeds the buffer's length " + buf.length + ": " + nbytes);
    }
    return recvInto(ByteBuffer.wrap(buf, 0, nbytes == 0 ? buf.length : nbytes));
  }

  /**
   * Sends some of {@code data} and returns how many bytes went, as Python's {@code send(data)}; it
   * may be fewer than all. Waits (in blocking and timeout modes) until at least one byte can go,
   * and first, as Linux does, until a connect in progress has completed (in non-blocking mode:
   * {@link WouldBlockException} while it goes on; the connect's error if it failed). In blocking
   * mode it goes on waiting until every byte has gone, as Linux's blocking {@code send(2)} (and so
   * CPython's) does, also when another thread changes the socket's mode meanwhile; a failure once
   * some bytes went ends it with their count, as there, and the next call meets the failure (a
   * reset: the next send or receive reports it, once, as {@link ConnectionResetException}).
   *
   * <p>Over TLS, as Python's {@code SSLSocket.send}: in blocking and timeout modes it sends every
   * byte or throws (a {@link java.net.SocketTimeoutException} once the timeout has passed); sent
   * again with the same data, it goes on where the failed call stopped and returns the whole
   * length. In non-blocking mode it returns what went in whole records, as many as the kernel
   * takes.
   *
   * @throws BrokenPipeException on a TCP socket that is not connected, as Linux answers ({@link
   *     ErrnoException} with {@link Errno#ENOTCONN} over AF_UNIX)
   */
  public int send(byte[] data) throws IOException {
    Objects.requireNonNull(data, "data");
    int n = sendCopied(data);
    if (n <= 0) {
      return send(ByteBuffer.wrap(data));
    }
    if (n == data.length || sendTimeoutNanos != Timeouts.BLOCKING) {
      return n;
    }
    PolledChannel current = sending("send to");
    current.enterWriting();
    try {
      return n + sendRest(current, ByteBuffer.wrap(data, n, data.length - n));
    } finally {
      current.exitWriting();
    }
  }

  /**
   * Sends some of the buffer's remaining bytes, advancing its position, and returns how many went.
   */
  public int send(ByteBuffer data) throws IOException {
    Objects.requireNonNull(data, "data");
    if (kind == SocketKind.SOCK_DGRAM) {
      return sendDatagram(data, null);
    }
    return sendStream(data, null);
  }

  /**
   * {@link #send(ByteBuffer)} on a stream socket; {@code given} is the address a {@link #sendTo}
   * gave (or {@code null}), which TCP ignores but which a socket not connected names in its error.
   */
  private int sendStream(ByteBuffer data, SocketAddress given) throws IOException {
    PolledChannel current = sending("send to", given);
    long deadline = awaitConnected(current, "send to");
    if (!data.hasRemaining()) {
      if (tls == null) {
        sendNothing(current);
      }
      return 0;
    }
    if (tls != null) {
      long timeout = sendTimeoutNanos; // the call's mode, kept if another thread changes it
      boolean nonBlocking = timeout == Timeouts.NON_BLOCKING;
      // All of it or a failure in blocking and timeout modes, as CPython's SSLSocket.send (its
      // SSL_write has partial writes off); non-blocking: the records that went, as send(2) counts
      return tls.write(data, Timeouts.deadline(timeout), !nonBlocking, nonBlocking);
    }
    boolean blocking = sendTimeoutNanos == Timeouts.BLOCKING; // the call's mode
    boolean waited = false;
    current.enterWriting(); // several threads may send at once
    try {
      while (true) {
        int n;
        try {
          n = writeSome(current, data, UNKNOWN_ADDRESS);
        } catch (BrokenPipeException e) {
          if (blocking && waited && tookUnixReset(current)) {
            throw Errors.of(Errno.ECONNRESET, "send to", peer);
          }
          throw e;
        }
        if (n > 0) {
          return blocking && data.hasRemaining() ? n + sendRest(current, data) : n;
        }
        deadline = await(current, SelectionKey.OP_WRITE, deadline, "send to", peer);
        waited = true;
      }
    } finally {
      current.exitWriting();
    }
  }

  /**
   * The rest of a blocking send once its first bytes went (between {@code enterWriting} and {@code
   * exitWriting}): Linux's blocking {@code send(2)} waits for room until every byte is queued, so
   * CPython's blocking {@code send} returns the whole length, as the JDK's blocking channel write
   * does (JDK-7176630). It waits in blocking mode whatever another thread makes of the socket's
   * mode meanwhile: {@code send(2)} reads it once, at its entry. A failure after that ends it as it
   * ends {@code send(2)}: with the count of the bytes that went; the next call meets the failure
   * again (a closed socket, this side's shutdown, an interrupt whose status is kept), a reset
   * through {@link #resetPending}.
   */
  private int sendRest(PolledChannel current, ByteBuffer data) {
    int sent = 0;
    boolean waited = false; // since the last bytes went
    try {
      while (data.hasRemaining()) {
        int n = writeSome(current, data, UNKNOWN_ADDRESS);
        sent += n;
        waited = n == 0;
        if (waited) {
          long none = Timeouts.deadline(Timeouts.BLOCKING); // the call's mode, not the socket's
          await(current, SelectionKey.OP_WRITE, none, false, "send to", peer);
        }
      }
    } catch (ConnectionResetException e) {
      resetPending = true; // the write that met it took it from the kernel
    } catch (BrokenPipeException e) {
      if (waited) {
        tookUnixReset(current); // as send(2) woken from its wait takes it, returning the count
      }
    } catch (IOException e) {
      // the bytes that went are the call's answer, as send(2)'s; the failure stays for the next
    }
    return sent;
  }

  /**
   * Takes the reset that an AF_UNIX peer's close with bytes unread left beside the broken pipe, as
   * Linux's blocking {@code send(2)} takes it when the close wakes it from its wait for room: it
   * wakes to {@code sock_error}, which takes {@code sk_err} (ECONNRESET), where jsock's next
   * non-blocking {@code send(2)} meets the shut output at its entry ({@code EPIPE}) and leaves the
   * reset for the next receive to raise (python3 gets the end of the stream there). A close that
   * comes while {@code send(2)} copies, not waiting, shuts the output before it sets the reset, so
   * the copy ends with {@code EPIPE} and leaves it, as jsock's write then does. Reads {@code
   * SO_ERROR}, which takes it, and says whether it was a reset. The epoll path only: the portable
   * path cannot ask.
   */
  private boolean tookUnixReset(PolledChannel current) {
    if (family != Family.AF_UNIX || !StreamCalls.isAvailable()) {
      return false;
    }
    int fd = current.enterAnyCall();
    if (fd < 0) {
      return false;
    }
    try {
      return StreamCalls.getIntOption(fd, SOL_SOCKET, SO_ERROR_OPTNAME) == Errno.ECONNRESET;
    } catch (StreamCalls.Failed e) {
      return false; // the socket's own calls say what became of it
    } finally {
      current.exitCall();
    }
  }

  /**
   * Whether a blocking send left the reset it met for the next call to report (see {@link
   * #sendRest}), and if so takes it, so that one call reports it, as Linux's {@code sock_error}
   * takes {@code sk_err}. Asked only where that call would otherwise end with a broken pipe or the
   * end of the stream (what the kernel answers once it has reported the reset), never on the hot
   * path.
   */
  private boolean takePendingReset() {
    if (!resetPending) {
      return false;
    }
    synchronized (stateLock) {
      boolean pending = resetPending;
      resetPending = false;
      return pending;
    }
  }

  /**
   * Sends all of {@code data}, as Python's {@code sendall(data)}. In timeout mode the timeout
   * bounds the whole call; if it fails, an unknown part of the data has been sent.
   */
  public void sendAll(byte[] data) throws IOException {
    Objects.requireNonNull(data, "data");
    int n = sendCopied(data);
    if (n != data.length) {
      int sent = Math.max(n, 0);
      sendAll(ByteBuffer.wrap(data, sent, data.length - sent));
    }
  }

  /**
   * The first write of a small message on a stream, from a scratch buffer it is copied into (the
   * scratch buffer given back at once): sending heap memory in place takes a segment per call,
   * which the JIT removes in some call chains and not in others, where copying a few hundred bytes
   * allocates nothing (the JDK's channel copies every heap buffer). Returns how many bytes went (0
   * when the send buffer is full), or -1 where this does not apply: empty or larger data, a
   * datagram or TLS socket, no scratch buffer free, reads and writes through the channel.
   */
  private int sendCopied(byte[] data) throws IOException {
    if (data.length == 0
        || data.length > COPIED_SEND
        || kind != SocketKind.SOCK_STREAM
        || tls != null
        || !StreamCalls.isAvailable()
        || peer == null) { // not connected, or not yet: the channel must finish the connect first
      return -1;
    }
    PolledChannel current = sending("send to");
    Scratch scratch = ScratchBuffers.take();
    if (scratch == null) {
      return -1;
    }
    try {
      return writeSome(current, scratch.buffer().put(data).flip(), scratch.address());
    } finally {
      ScratchBuffers.give(scratch);
    }
  }

  /** Sends all of the buffer's remaining bytes, advancing its position to its limit. */
  public void sendAll(ByteBuffer data) throws IOException {
    Objects.requireNonNull(data, "data");
    if (kind == SocketKind.SOCK_DGRAM) {
      sendDatagram(data, null); // a datagram goes whole or not at all
      return;
    }
    PolledChannel current = sending("send to");
    // Started once the first write leaves data behind (CPython starts it just before that write,
    // a non-blocking call later): a message that fits the send buffer, the usual case, reads no
    // clock. A connect in progress is waited for first, within the same deadline.
    long deadline = awaitConnected(current, "send to");
    if (tls != null) {
      long timeout = sendTimeoutNanos; // the call's mode, kept if another thread changes it
      tls.write(data, Timeouts.deadline(timeout), true, timeout == Timeouts.NON_BLOCKING);
      return;
    }
    if (!data.hasRemaining()) {
      sendNothing(current); // as CPython's sendall, which calls send once whatever the length
      return;
    }
    // The call's mode, read with its timeout when it first has to wait (a wait for the connect
    // means it was not non-blocking): another thread's setBlocking(false) does not end the call.
    current.enterWriting();
    try {
      boolean nonBlocking = false;
      while (data.hasRemaining()) {
        // Checked before every later write, as CPython does, so that a reader fast enough to keep
        // the buffer from filling still cannot stretch the call past its timeout.
        if (Timeouts.hasPassed(deadline)) {
          throw sendTimedOut("send to", peer);
        }
        int n = writeSome(current, data, UNKNOWN_ADDRESS);
        if (data.hasRemaining()) {
          if (deadline == Timeouts.NOT_STARTED) {
            long timeout = sendTimeoutNanos;
            nonBlocking = timeout == Timeouts.NON_BLOCKING;
            deadline = Timeouts.deadline(timeout);
          }
          if (n == 0) {
            await(current, SelectionKey.OP_WRITE, deadline, nonBlocking, "send to", peer);
          }
        }
      }
    } finally {
      current.exitWriting();
    }
  }

  // ---------------------------------------------------------------- files and streams

  /**
   * Sends a whole file, as Python's {@code sendfile(file)}; see {@link #sendFile(FileChannel, long,
   * long)}.
   */
  public long sendFile(Path file) throws IOException {
    return sendFile(file, 0, Long.MAX_VALUE);
  }

  /**
   * Sends {@code count} bytes of a file from {@code offset}, as Python's {@code sendfile(file,
   * offset, count)} of a file opened for it; see {@link #sendFile(FileChannel, long, long)}.
   *
   * @param count how many bytes at most, at least 1 ({@link Long#MAX_VALUE}: to the end)
   */
  public long sendFile(Path file, long offset, long count) throws IOException {
    Objects.requireNonNull(file, "file");
    if (Files.isDirectory(file)) {
      // the JDK opens one for reading, and its transferTo would fail as an unnamed socket error
      throw new FileSystemException(file.toString(), null, "Is a directory");
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      return sendFile(channel, offset, count);
    }
  }

  /**
   * Sends {@code count} bytes of a file from {@code offset} (fewer if the file ends first), as
   * Python's {@code sendfile(file, offset, count)}, and returns how many went. The kernel copies
   * the file to the socket ({@link FileChannel#transferTo}): the bytes never enter the JVM. The
   * file's position ends after the last byte sent, even when the call fails (where it was if none
   * went, as in Python). In timeout mode the timeout bounds the whole call; in non-blocking mode it
   * sends what it can without waiting.
   *
   * <pre>{@code
   * try (FileChannel file = FileChannel.open(path)) {
   *   long sent = sock.sendFile(file, 0, file.size());
   * }
   * }</pre>
   *
   * @param count how many bytes at most, at least 1 ({@link Long#MAX_VALUE}: to the end)
   * @throws IllegalArgumentException if the file is closed or not open for reading, as Python's
   *     {@code ValueError}
   */
  public long sendFile(FileChannel file, long offset, long count) throws IOException {
    Objects.requireNonNull(file, "file");
    if (!file.isOpen()) {
      throw new IllegalArgumentException("file is closed"); // not the socket, as the JDK would say
    }
    if (offset < 0) {
      throw new IllegalArgumentException("offset must not be negative: " + offset);
    }
    if (count < 1) {
      throw new IllegalArgumentException("count must be positive: " + count);
    }
    if (kind != SocketKind.SOCK_STREAM) {
      throw new IllegalArgumentException("sendFile needs a SOCK_STREAM socket, not " + kind);
    }
    PolledChannel current = sending("sendfile to");
    SocketChannel channel = (SocketChannel) current.channel();
    long timeout = sendTimeoutNanos;
    long deadline = awaitConnected(current, "sendfile to");
    if (tls != null) {
      long started = deadline == Timeouts.NOT_STARTED ? Timeouts.deadline(timeout) : deadline;
      return sendFileOverTls(file, offset, count, started, timeout == Timeouts.NON_BLOCKING);
    }
    long sent = 0;
    current.enterWriting();
    try {
      while (sent < count) {
        if (Thread.currentThread().isInterrupted()) {
          // before the file is touched: the JDK closes a FileChannel that an interrupted thread
          // uses (interrupted before the call, or in a platform thread's wait on the epoll path,
          // which ends without noticing one)
          throw Errors.interrupted("sendfile to", peer, null);
        }
        if (offset + sent >= file.size()) {
          if (sent == 0) {
            // no transfer to find it out: a file not open for reading is refused at any offset,
            // as over TLS and in Python (an empty read costs no system call)
            file.read(NO_BYTES, offset);
          }
          break;
        }
        // Checked before every later transfer, as sendAll does: the first goes even when the
        // timeout is too short to wait at all, as in Python (its deadline is not started yet).
        if (Timeouts.hasPassed(deadline)) {
          throw sendTimedOut("sendfile to", peer);
        }
        long n = file.transferTo(offset + sent, count - sent, channel);
        sent += n;
        countSent(n);
        if (deadline == Timeouts.NOT_STARTED) {
          deadline = Timeouts.deadline(timeout);
        }
        if (n == 0 && offset + sent < file.size()) {
          if (timeout == Timeouts.NON_BLOCKING && sent > 0) {
            break;
          }
          boolean nonBlocking = timeout == Timeouts.NON_BLOCKING; // the call's, as sendAll's
          await(current, SelectionKey.OP_WRITE, deadline, nonBlocking, "sendfile to", peer);
        }
      }
    } catch (ClosedByInterruptException e) {
      // the interrupt came during a transfer, and the JDK closed the file
      throw Errors.interrupted("sendfile to", peer, e);
    } catch (NonReadableChannelException e) {
      throw notReadable(e);
    } catch (IOException e) {
      if (e instanceof ClosedChannelException && !file.isOpen()) {
        throw e; // another thread closed the file: the socket is not at fault
      }
      throw failure(e, "sendfile to", peer);
    } finally {
      current.exitWriting();
      movePosition(file, offset, sent);
    }
    return sent;
  }

  /** An empty buffer: {@code sendFile}'s check that its file is open for reading. */
  private static final ByteBuffer NO_BYTES = ByteBuffer.allocate(0);

  /** {@code sendFile}'s file opened for writing only, as Python's "File not open for reading". */
  private static IllegalArgumentException notReadable(NonReadableChannelException e) {
    return new IllegalArgumentException("file is not open for reading", e);
  }

  /**
   * Moves the file's position past what {@code sendFile} sent, even when it fails with an
   * interrupt: the JDK would close the caller's file rather than move it for an interrupted thread
   * (the interrupt status is kept). When nothing went, the position stays where it was, as
   * Python's. A file that is closed already is left as it is, so that its error does not hide the
   * call's own.
   */
  private static void movePosition(FileChannel file, long offset, long sent) throws IOException {
    if (sent == 0 || !file.isOpen()) {
      return;
    }
    boolean interrupted = Thread.interrupted();
    try {
      file.position(offset + sent);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * The receiving side as an {@link InputStream}: each read is a {@link #recvInto}, -1 at the end
   * of the stream, in the socket's mode; after a timeout it may be read again, as the JDK's socket
   * streams, except after a {@code readNBytes}, {@code readAllBytes} or {@code skip} that a timeout
   * or an interrupt ended once it had taken bytes (lost to the caller: the exception's {@code
   * bytesTransferred} counts them), after which it refuses every later read, as {@code makeFile}'s
   * views do. In non-blocking mode {@code readAllBytes} and {@code readNBytes} return the bytes
   * that had come when a read would block, as Python's {@code readall()}. Closing it leaves the
   * socket open; the closed view refuses later reads.
   */
  public InputStream getInputStream() {
    return new SocketInputStream(this, SocketInputStream.View.STREAM);
  }

  /**
   * The sending side as an {@link OutputStream}: each write is a {@link #sendAll}. Closing it
   * leaves the socket open; the closed view refuses later writes.
   */
  public OutputStream getOutputStream() {
    return new SocketOutputStream(this);
  }

  /**
   * A buffered file view of the socket, as Python's {@code makefile(mode)}: {@code "rb"} gives a
   * {@link BufferedInputStream}, {@code "wb"} a {@link BufferedOutputStream}, {@code "r"} a UTF-8
   * {@link BufferedReader} and {@code "w"} a UTF-8 {@link BufferedWriter}, strict as Python's
   * default {@code errors}: bytes that are not UTF-8, or a lone surrogate, throw {@link
   * java.nio.charset.MalformedInputException} instead of being replaced. As in Python, a reader
   * whose read timed out refuses every later read (its buffer holds an unknown part of the data),
   * and a text reader also after a read that would block in non-blocking mode or that an interrupt
   * ended (its {@code readLine} would drop the part of the line it had read; Python's {@code
   * makefile} needs a blocking socket), a writer whose flush timed out (or would block) keeps only
   * the bytes that did not go, for its next flush (a binary writer's write larger than its buffer
   * that fails so, or is interrupted, once part of it has gone keeps the rest and returns; a text
   * writer encodes each write at once, so a lone surrogate fails the write that has it), and
   * closing the view leaves the socket open. In non-blocking mode a binary reader's {@code
   * readAllBytes} and {@code readNBytes} return the bytes that had come when a read would block, as
   * Python's {@code read()} and {@code read(n)}.
   *
   * <pre>{@code
   * BufferedReader lines = sock.makeFile("r");
   * String first = lines.readLine();
   * }</pre>
   *
   * <p>The mode is read as Python reads it, a set of the letters r, w and b ({@code "br"} is {@code
   * "rb"}, {@code "bw"} is {@code "wb"}, {@code ""} is {@code "r"}).
   *
   * <p>The view's type comes from the variable it is assigned to, so declare it: {@code var f =
   * sock.makeFile("rb")} gives a plain {@link Closeable}, and a type that does not fit the mode
   * ({@code BufferedReader r = sock.makeFile("rb")}) compiles and throws {@link ClassCastException}
   * at the call. A binary reader has no {@code readline()}: read lines as text with {@code "r"}, or
   * as bytes with {@link io.jsock.framing.Framing#lines(int)}.
   *
   * @throws IllegalArgumentException for another letter, or for both r and w (Python's {@code
   *     "rwb"} pairs a reader and a writer: make one of each)
   */
  @SuppressWarnings("unchecked")
  public <T extends Closeable> T makeFile(String mode) {
    Objects.requireNonNull(mode, "mode");
    Closeable view =
        switch (fileMode(mode)) {
          case "rb" ->
              new SocketBufferedInputStream(
                  new SocketInputStream(this, SocketInputStream.View.BINARY_FILE));
          case "wb" -> new SocketBufferedOutputStream(new SocketOutputStream(this));
          case "r" ->
              // a decoder and an encoder of their own report malformed text, as Python's strict
              // errors; given the Charset, the JDK would replace it with U+FFFD and '?'
              new BufferedReader(
                  new InputStreamReader(
                      new SocketInputStream(this, SocketInputStream.View.TEXT_FILE),
                      StandardCharsets.UTF_8.newDecoder()));
          case "w" ->
              new SocketTextWriter(new SocketBufferedOutputStream(new SocketOutputStream(this)));
          default -> throw new AssertionError(mode);
        };
    return (T) view;
  }

  /**
   * Python's {@code makefile} mode as one of r, rb, w and wb: as Python, a set of the letters r, w
   * and b, read for reading unless it has w ({@code ""} is {@code "r"}, {@code "br"} is {@code
   * "rb"}).
   */
  private static String fileMode(String mode) {
    if (!mode.chars().allMatch(c -> c == 'r' || c == 'w' || c == 'b')) {
      throw new IllegalArgumentException(
          "invalid mode '" + mode + "' (only r, w, b allowed)"); // Python's ValueError
    }
    boolean writing = mode.indexOf('w') >= 0;
    if (writing && mode.indexOf('r') >= 0) {
      throw new IllegalArgumentException(
          "mode '" + mode + "' reads and writes: make a reader (r, rb) and a writer (w, wb)");
    }
    return (writing ? "w" : "r") + (mode.indexOf('b') >= 0 ? "b" : "");
  }

  // ---------------------------------------------------------------- datagrams

  /**
   * Receives one datagram and its sender's address, as Python's {@code recvfrom(bufsize)}. On a
   * stream socket it receives as {@link #recv(int)} and gives the peer's address, except that
   * {@code recvFrom(0)} asks the kernel, as Python's does: it takes nothing, yet waits (in blocking
   * and timeout modes) until data is queued or the stream has ended, and throws a reset. Over TLS
   * (whose Python {@code SSLSocket} refuses {@code recvfrom} with {@code ValueError}) it receives
   * as {@code recv} too, and {@code recvFrom(0)} waits likewise until plaintext is there, taking
   * none, or the TLS stream has ended.
   *
   * <p>Unlike Python, a datagram larger than {@code bufsize} is an error, not silently cut short:
   * it throws {@link ErrnoException} with {@link Errno#EMSGSIZE} naming the datagram's length (the
   * datagram is consumed, as it would be in Python). So is {@code recvFrom(0)}, which receives a
   * datagram as Python's {@code recvfrom(0)} does, where {@code recv(0)} leaves it queued.
   *
   * <pre>{@code
   * Datagram d = udp.recvFrom(2048);
   * }</pre>
   */
  public Datagram recvFrom(int bufsize) throws IOException {
    checkBufsize(bufsize);
    if (kind == SocketKind.SOCK_STREAM) {
      // recvfrom(2) asks the kernel even for 0 bytes, as recv(0) does not
      PolledChannel current = receiving("recv from");
      if (current == null) {
        return new Datagram(EMPTY, abortedConnectTarget());
      }
      if (bufsize == 0) {
        recvNothing(current);
        return new Datagram(EMPTY, peer);
      }
      byte[] data = recv(bufsize);
      return new Datagram(data, peer);
    }
    SocketAddress connected = peer;
    PolledChannel current =
        connected != null ? open("recv from", connected) : open("recv on", receivingOn());
    DatagramChannel channel = (DatagramChannel) current.channel();
    long deadline = Timeouts.NOT_STARTED;
    current.enterReading(); // several threads may receive at once
    try {
      while (true) {
        Datagram kept = takeHeld(bufsize); // first those a connect kept, if any
        if (kept != null) {
          return kept;
        }
        datagramLock.lock();
        try {
          if (held != null) {
            continue; // a connect kept datagrams meanwhile (under this lock): they come first
          }
          ByteBuffer scratch = scratch();
          SocketAddress source = receive(channel, scratch);
          if (source != null) {
            scratch.flip();
            checkFits(scratch.remaining(), bufsize, source);
            byte[] data = new byte[scratch.remaining()];
            scratch.get(data);
            return new Datagram(data, source);
          }
        } finally {
          datagramLock.unlock();
        }
        deadline = awaitDatagram(current, channel, deadline);
      }
    } finally {
      current.exitReading();
    }
  }

  /**
   * A datagram receive's wait: its failures (a timeout, would-block, a close) name the connected
   * peer, or, on an unconnected socket, the local address it receives on.
   */
  private long awaitDatagram(PolledChannel current, DatagramChannel channel, long deadline)
      throws IOException {
    SocketAddress connected = peer;
    return connected != null
        ? await(current, SelectionKey.OP_READ, deadline, "recv from", connected)
        : await(current, SelectionKey.OP_READ, deadline, "recv on", datagramsOn(channel));
  }

  /**
   * The local address an unconnected datagram socket receives on, for messages: as the channel has
   * it, or, once a close (by another thread, perhaps during the call) has taken it from the
   * channel, as the first receive found it.
   */
  private SocketAddress datagramsOn(DatagramChannel channel) {
    SocketAddress local = localAddressOf(channel);
    return local != null ? local : receivingOn();
  }

  /**
   * The local address an unconnected datagram socket receives on, for messages, as the first
   * receive or the bind found it; on a socket never bound, the one {@link #getSockName()} gives
   * ({@code 0.0.0.0:0}), so that every message names one ("recv on: …" named none).
   */
  private SocketAddress receivingOn() {
    SocketAddress local = receivingOn;
    return local != null
        ? local
        : new InetSocketAddress(Addresses.anyLocal(family == Family.AF_INET6), 0);
  }

  /**
   * Receives one datagram into the buffer's remaining space and returns its sender's address, as
   * Python's {@code recvfrom_into(buffer)}; the buffer's position advances by the datagram's
   * length. A datagram that does not fit is an error, as for {@link #recvFrom(int)}.
   */
  public SocketAddress recvFromInto(ByteBuffer buffer) throws IOException {
    checkWritable(buffer);
    if (kind == SocketKind.SOCK_STREAM) {
      PolledChannel current = receiving("recv from");
      if (current == null) {
        return abortedConnectTarget();
      }
      if (!buffer.hasRemaining()) {
        recvNothing(current); // recvfrom(2) of no bytes, as recvFrom(0)
        return peer;
      }
      recvInto(buffer);
      return peer;
    }
    SocketAddress connected = peer;
    PolledChannel current =
        connected != null ? open("recv from", connected) : open("recv on", receivingOn());
    DatagramChannel channel = (DatagramChannel) current.channel();
    long deadline = Timeouts.NOT_STARTED;
    current.enterReading(); // several threads may receive at once
    try {
      while (true) {
        Datagram kept = takeHeld(buffer.remaining()); // first those a connect kept, if any
        if (kept != null) {
          buffer.put(kept.data());
          return kept.address();
        }
        if (buffer.remaining() >= MAX_DATAGRAM) {
          int start = buffer.position();
          SocketAddress source;
          int limit = buffer.limit();
          if (!buffer.isDirect() && limit - start > MAX_DATAGRAM) {
            // As MAX_TRANSFER for streams: the JDK receives into a heap buffer through a
            // temporary direct buffer as large as its room, kept per carrier thread; no datagram
            // needs more than MAX_DATAGRAM of it.
            buffer.limit(start + MAX_DATAGRAM);
            try {
              source = receive(channel, buffer);
            } finally {
              buffer.limit(limit);
            }
          } else {
            source = receive(channel, buffer); // fits whatever comes: no copy
          }
          if (source != null) {
            if (held == null || !keepBehindHeld(buffer, start, source)) {
              return source;
            }
            continue; // a connect kept older datagrams meanwhile: they come first
          }
        } else {
          datagramLock.lock();
          try {
            if (held != null) {
              continue; // a connect kept datagrams meanwhile (under this lock): they come first
            }
            ByteBuffer scratch = scratch();
            SocketAddress source = receive(channel, scratch);
            if (source != null) {
              scratch.flip();
              checkFits(scratch.remaining(), buffer.remaining(), source);
              buffer.put(scratch);
              return source;
            }
          } finally {
            datagramLock.unlock();
          }
        }
        deadline = awaitDatagram(current, channel, deadline);
      }
    } finally {
      current.exitReading();
    }
  }

  /**
   * Sends {@code data} as one datagram to {@code address}, as Python's {@code sendto(data,
   * address)}, and returns its length.
   *
   * <p>On a stream socket it answers as Linux does: TCP ignores the address, so it sends as {@link
   * #send(ByteBuffer)} (to the peer; {@link BrokenPipeException} if not connected), and AF_UNIX
   * refuses it.
   *
   * @throws ErrnoException with {@link Errno#EISCONN} on a connected datagram socket given another
   *     address, or a connected AF_UNIX stream socket ({@link Errno#EOPNOTSUPP} on one that is not)
   */
  public int sendTo(byte[] data, SocketAddress address) throws IOException {
    Objects.requireNonNull(data, "data");
    return sendTo(ByteBuffer.wrap(data), address);
  }

  /** Sends the buffer's remaining bytes as one datagram to {@code address}. */
  public int sendTo(ByteBuffer data, SocketAddress address) throws IOException {
    Objects.requireNonNull(data, "data");
    SocketAddress target = checkAddress(address, "send to");
    if (kind == SocketKind.SOCK_STREAM && family == Family.AF_UNIX) {
      open("send to", target); // a closed socket is EBADF, as Python's
      throw Errors.of(peer != null ? Errno.EISCONN : Errno.EOPNOTSUPP, "send to", target);
    }
    if (kind == SocketKind.SOCK_STREAM) {
      return sendStream(data, target);
    }
    return sendDatagram(data, target);
  }

  /** Sends {@code data} as one datagram to {@code (host, port)}, resolving the host now. */
  public int sendTo(byte[] data, String host, int port) throws IOException {
    Objects.requireNonNull(data, "data");
    return sendTo(ByteBuffer.wrap(data), inetAddress(host, port, "send to"));
  }

  /** Sends the buffer's remaining bytes as one datagram to {@code (host, port)}, resolving now. */
  public int sendTo(ByteBuffer data, String host, int port) throws IOException {
    Objects.requireNonNull(data, "data");
    return sendTo(data, inetAddress(host, port, "send to"));
  }

  /**
   * Shuts down one or both directions of the connection, as Python's {@code shutdown(how)}: after
   * {@link Shutdown#SHUT_WR} the peer reads end of stream and may still reply.
   *
   * <p>A stream socket that is not connected answers as on Linux (where the kernel can be asked:
   * see README's "Differences from Python"): an AF_UNIX one is shut down, and a connection it makes
   * later keeps the directions shut (sends fail with {@link BrokenPipeException}); on a TCP
   * listener {@code SHUT_WR} does nothing, and {@code SHUT_RD} and {@code SHUT_RDWR} stop it
   * listening: an {@link #accept()} waiting or to come throws {@link Errno#EINVAL}, clients not yet
   * accepted are reset and new ones refused, until {@link #listen()} is called again. An AF_UNIX
   * listener shut down for reading refuses new clients; its {@link #accept()}, waiting or to come,
   * takes the clients already queued, then throws {@link Errno#EINVAL}, as Linux's blocking accept
   * (in timeout mode too, where CPython's accept waits out the timeout, busy).
   *
   * @throws ErrnoException with {@link Errno#ENOTCONN} on a TCP socket that is not connected, a
   *     listener aside (a later connection still has {@code SHUT_WR}'s effect, as on Linux), or
   *     whose connect is in progress (Linux would abort the connect); on the epoll path also on a
   *     TCP connection that has closed (the peer reset it, or both sides' closes have completed),
   *     as Linux answers (the portable path's channel reports success); on a UDP socket that is not
   *     connected, as Linux and Python; with {@link Errno#EOPNOTSUPP} on a connected UDP socket,
   *     which Linux would shut down (the JDK's datagram channels have no shutdown). A TCP socket
   *     whose connect failed with no connect call taking the error (see {@link #recv}) says {@code
   *     ENOTCONN}, and every connect after it {@link Errno#EINVAL}, as Linux's
   */
  public void shutdown(Shutdown how) throws IOException {
    Objects.requireNonNull(how, "how");
    claimKernelConnect();
    PolledChannel current = open("shutdown", peer);
    if (!isConnected(current)) {
      if (connectAborted != null) {
        synchronized (stateLock) { // as connectingChannel reads it with connectAborted
          connectAbortedShut = connectAborted != null;
        }
      }
      shutdownUnconnected(current, how);
      return;
    }
    if (!(current.channel() instanceof SocketChannel channel)) {
      throw Errors.of(Errno.EOPNOTSUPP, "shutdown", peer); // the JDK's datagram channels lack it
    }
    if (family.isInet()) {
      // Linux refuses a TCP connection that has closed (reset, or both closes done) with ENOTCONN,
      // which the JDK's shutdown ignores; getpeername(2) tells the same state
      checkPeerInKernel(current, "shutdown");
    }
    connectUnclaimed = false; // Linux's shutdown marks the socket connected: connect says EISCONN
    try {
      if (tls != null && how != Shutdown.SHUT_WR) {
        tls.shutdownInput();
      }
      if (tls != null && how != Shutdown.SHUT_RD) {
        long timeout = sendTimeoutNanos;
        // close_notify before the FIN
        tls.shutdownOutput(Timeouts.deadline(timeout), timeout == Timeouts.NON_BLOCKING);
      }
      if (how != Shutdown.SHUT_WR) {
        inputShut = true;
        channel.shutdownInput();
      }
      if (how != Shutdown.SHUT_RD) {
        channel.shutdownOutput();
        current.outputShut(); // wakes a send waiting on it, as Linux does
      }
    } catch (IOException e) {
      throw Errors.translate(e, "shutdown", peer);
    }
  }

  /**
   * {@code shutdown(2)} on a socket that is not connected, which the JDK's channels refuse (a
   * stream's {@code NotYetConnectedException}, a listener has no shutdown): the kernel answers, as
   * for Python, where its descriptor is at hand. A connect in progress is left alone: the JDK's
   * channel could not tell that the kernel had aborted it.
   */
  private void shutdownUnconnected(PolledChannel current, Shutdown how) throws IOException {
    // The call is entered under stateLock, never the other way round: a failed connect closes the
    // channel under stateLock (replaceClosedStream), and that close waits for the calls in flight.
    // Also against listen(), which tells a stopped listener to listen again.
    synchronized (stateLock) {
      boolean kernelMayAnswer =
          current.channel() instanceof ServerSocketChannel
              || current.channel() instanceof SocketChannel stream
                  // closed: the JDK closed it when its connect failed, and the number may be
                  // another socket's by now
                  && stream.isOpen()
                  && !stream.isConnectionPending();
      int fd = kernelMayAnswer ? current.enterAnyCall() : -1;
      if (fd < 0) {
        ensureOpen("shutdown"); // a close by another thread meanwhile
        // UDP as on Linux; a connect in progress or failed, and every socket on the portable
        // path, as BSD
        throw Errors.of(Errno.ENOTCONN, "shutdown", null);
      }
      boolean listener = current.channel() instanceof ServerSocketChannel;
      boolean wasUnixListenerShut = unixListenerShut;
      if (listener && !family.isInet() && how != Shutdown.SHUT_WR) {
        // set before the call: the edge it raises may wake a waiting accept at once, which must
        // then see it (else it waits again for an edge that will not come)
        unixListenerShut = true;
      }
      try {
        StreamCalls.shutdown(
            fd,
            switch (how) {
              case SHUT_RD -> 0;
              case SHUT_WR -> 1;
              case SHUT_RDWR -> 2;
            });
      } catch (StreamCalls.Failed e) {
        unixListenerShut = wasUnixListenerShut;
        if (!listener && how != Shutdown.SHUT_WR && e.errno() == Errno.ENOTCONN) {
          // a TCP socket that is not connected: Linux answers ENOTCONN, yet has shut its receive
          // side, so receives give the end of the stream, and so do the connection's it makes
          inputShut = true;
        }
        throw Errors.of(e.errno(), "shutdown", null); // a TCP socket that is not connected
      } finally {
        current.exitCall();
      }
      if (!listener && !family.isInet()) {
        unixShutUnconnected |=
            switch (how) {
              case SHUT_RD -> 1;
              case SHUT_WR -> 2;
              case SHUT_RDWR -> 3;
            };
      }
      if (how != Shutdown.SHUT_WR) {
        inputShut = true;
        if (listener && family.isInet()) {
          listenerStopped = true; // Linux ends its listening (an AF_UNIX one refuses new clients)
        }
      }
    }
  }

  /**
   * Closes the socket, as Python's {@code close()}. Closing twice does nothing; any other use after
   * closing throws {@link ClosedSocketException}, and threads waiting on the socket wake with it.
   */
  @Override
  public void close() throws IOException {
    PolledChannel current;
    boolean resets;
    boolean mayLinger;
    List<SocketSelector> registeredWith;
    synchronized (stateLock) {
      if (closed) {
        return;
      }
      closed = true;
      current = polled;
      registeredWith = selectors;
      selectors = List.of();
      resets = tls != null && lingersZero(current);
      mayLinger = family.isInet() && lingers();
      if (held != null) {
        held = null;
        HOLDING.decrementAndGet();
      }
    }
    // With SO_LINGER 0 the close is a reset: a close_notify first would end the peer's stream in
    // order, and it would read a connection cut short as complete.
    if (tls != null && !resets) {
      tls.close(); // close_notify, as best it can within a short time
    }
    // The JDK defers closing a channel registered with a selector until the selector lets it go,
    // and sends a FIN meanwhile (where Linux's close resets a connection with input unread, or
    // with SO_LINGER 0); Python's close is immediate, registered or not. Closed, the socket can
    // no longer be registered again.
    for (SocketSelector selector : registeredWith) {
      selector.release(current.channel());
    }
    try {
      if (mayLinger) {
        // with SO_LINGER above 0 Linux's close(2) waits in the kernel until the unsent data is
        // sent or the time is up, non-blocking socket or not: a virtual thread closes off its
        // carrier, and the close still returns only when the kernel's has, as Python's does
        OffCarrier.call(
            "jsock-lingering-close",
            () -> {
              current.close();
              return null;
            });
      } else {
        current.close();
      }
    } catch (IOException e) {
      throw Errors.translate(e, "close", peer);
    }
  }

  /**
   * Notes that a selector registers this socket, so that {@link #close()} makes it let the channel
   * go first (and {@link #listen} moves the registration to its new channel); for {@link
   * SocketSelector#register}, before it registers the channel.
   *
   * @return the socket's channel as of the note, which the selector must register: a listen that
   *     replaced the channel before it did not know this selector, so did not move it
   * @throws ClosedSocketException if the socket is closed
   */
  SelectableChannel registeredWith(SocketSelector selector) throws IOException {
    synchronized (stateLock) {
      ensureOpen("select");
      if (selectors.isEmpty()) {
        selectors = List.of(selector); // the usual case: one selector
      } else if (!selectors.contains(selector)) {
        List<SocketSelector> more = new ArrayList<>(selectors);
        more.add(selector);
        selectors = List.copyOf(more);
      }
      return selectableChannel(); // under stateLock, as listen replaces it
    }
  }

  /** Forgets a selector that no longer holds this socket; for {@link SocketSelector}. */
  void unregisteredFrom(SocketSelector selector) {
    synchronized (stateLock) {
      if (selectors.contains(selector)) {
        List<SocketSelector> fewer = new ArrayList<>(selectors);
        fewer.remove(selector);
        selectors = List.copyOf(fewer);
      }
    }
  }

  /** Whether this socket's {@code SO_LINGER} is on and above 0, as set (guarded by stateLock). */
  private boolean lingers() {
    Object own = options.get(StandardSocketOptions.SO_LINGER);
    return own instanceof Integer seconds ? seconds > 0 : own == null && lingerInherited;
  }

  /**
   * Whether the socket's {@code SO_LINGER} is 0, as the kernel has it: a socket accepted by a
   * listener given it has it without its own {@code setSockOpt}. Guarded by stateLock.
   */
  private static boolean lingersZero(PolledChannel current) {
    try {
      return ((NetworkChannel) current.channel()).getOption(StandardSocketOptions.SO_LINGER) == 0;
    } catch (IOException | RuntimeException e) {
      return false; // closed already: nothing to reset
    }
  }

  // ---------------------------------------------------------------- modes and options

  /**
   * Sets the mode, as Python's {@code settimeout}: {@code null} for blocking, {@link Duration#ZERO}
   * for non-blocking, a positive duration for timeout mode.
   *
   * <p>A timeout longer than a {@code long} of nanoseconds holds (some 292 years) is kept as that
   * longest one, where Python raises {@code OverflowError}.
   *
   * @throws IllegalArgumentException if the timeout is negative
   * @throws ClosedSocketException if the socket is closed, as Python raises {@code EBADF}
   */
  public void setTimeout(Duration timeout) throws IOException {
    setMode(Timeouts.toNanos(timeout), "settimeout");
  }

  /**
   * The mode: {@code null} when blocking, {@link Duration#ZERO} when non-blocking, else the
   * timeout. A closed socket still answers, as in Python.
   */
  public Duration getTimeout() {
    return Timeouts.toDuration(timeoutNanos);
  }

  /**
   * Python's {@code setblocking(flag)}: {@code true} is {@code setTimeout(null)}, {@code false} is
   * {@code setTimeout(Duration.ZERO)}.
   *
   * @throws ClosedSocketException if the socket is closed, as Python raises {@code EBADF}
   */
  public void setBlocking(boolean blocking) throws IOException {
    setMode(blocking ? Timeouts.BLOCKING : Timeouts.NON_BLOCKING, "setblocking");
  }

  /** One timeout for both directions again, as Python's; ends any {@link #sendTimeoutNanos}. */
  private void setMode(long nanos, String operation) throws IOException {
    ensureOpen(operation); // Python sets the mode on the descriptor, so a closed one is EBADF
    timeoutNanos = nanos;
    sendTimeoutNanos = nanos;
    if (nanos == Timeouts.NON_BLOCKING) {
      polled.stopWatching(); // a non-blocking socket never waits on it (see there)
    }
  }

  /**
   * Whether operations may wait: true in blocking and in timeout mode, as Python's (which a closed
   * socket still answers).
   */
  public boolean getBlocking() {
    return timeoutNanos != Timeouts.NON_BLOCKING;
  }

  /**
   * Sets a socket option, as Python's {@code setsockopt}, with the JDK's typed options ({@link
   * StandardSocketOptions}, {@code jdk.net.ExtendedSocketOptions}). A connection's options set on a
   * TCP listening socket are given to every socket it accepts, as Linux does (not an AF_UNIX
   * listener's, as Linux makes those sockets afresh): {@code TCP_NODELAY} goes on the listening
   * socket itself, which Linux's accepted sockets inherit (the JDK's channel refuses it; jsock sets
   * it through the FFM), others the JDK's listener cannot hold (such as {@code SO_KEEPALIVE}) are
   * set on each socket as it is accepted. {@link Sockets#IPV6_V6ONLY}, {@link
   * Sockets#TCP_USER_TIMEOUT} and {@link Sockets#TCP_SYNCNT}, which the JDK has no option for, are
   * jsock's own (see there).
   *
   * @throws IllegalArgumentException if the option does not apply to this kind of socket, or the
   *     JDK refuses the value (a negative buffer size, an {@code IP_TOS} over 255): {@code value:
   *     SO_RCVBUF cannot be -1 (...)}; a listener checks the value of an option it holds for the
   *     sockets it accepts on a stream socket at once
   * @throws ErrnoException {@code ENOPROTOOPT} for an option that can only be read ({@code
   *     SO_INCOMING_NAPI_ID}, {@code SO_PEERCRED}), as Python's {@code setsockopt} raises
   */
  public <T> void setSockOpt(SocketOption<T> option, T value) throws IOException {
    Objects.requireNonNull(option, "option");
    Objects.requireNonNull(value, "value");
    synchronized (stateLock) {
      PolledChannel current = open("setsockopt", null);
      NetworkChannel channel = (NetworkChannel) current.channel();
      boolean held = channel.supportedOptions().contains(option);
      if (!held
          && !(channel instanceof ServerSocketChannel && streamOption(option))
          && !ownOptionApplies(option)) {
        throw notApplicable(option);
      }
      try {
        if (isOwnOption(option)) {
          if (!option.type().isInstance(value)) { // a raw SocketOption, as the JDK refuses it
            throw new IllegalArgumentException("Invalid value '" + value + "'");
          }
          setOwnOption(current, option, value);
        } else if (option == ExtendedSocketOptions.SO_INCOMING_NAPI_ID
            || option == ExtendedSocketOptions.SO_PEERCRED) {
          // read-only: Linux refuses them so (the JDK's refusal carries no errno)
          throw Errors.of(Errno.ENOPROTOOPT, "setsockopt " + option.name(), null);
        } else if (held) {
          channel.setOption(option, value);
        } else if (option == StandardSocketOptions.TCP_NODELAY) {
          if (!(value instanceof Boolean on)) { // a raw SocketOption: refused as the JDK refuses it
            throw new IllegalArgumentException("Invalid value '" + value + "'");
          }
          setNoDelayOnListener(current, on);
        } else {
          streamValue(option, value); // a value refused now, not by every accept that sets it
        }
      } catch (IllegalArgumentException e) { // the JDK's message names neither option nor value
        throw new IllegalArgumentException(
            "value: " + option.name() + " cannot be " + value + " (" + e.getMessage() + ")", e);
      } catch (IOException e) {
        throw Errors.translate(e, "setsockopt " + option.name(), null);
      }
      if (options.isEmpty()) { // the shared empty map: nothing is ever removed from ours
        options = new LinkedHashMap<>();
      }
      options.put(option, value);
    }
  }

  /**
   * Reads a socket option, as Python's {@code getsockopt}. {@code SO_RCVBUF} and {@code SO_SNDBUF}
   * read as Linux reports them: twice the size set, which the kernel keeps for its bookkeeping (the
   * JDK would halve them back). A listener reports the options it gives every socket it accepts
   * (such as {@code TCP_NODELAY}) as such a socket has them.
   */
  public <T> T getSockOpt(SocketOption<T> option) throws IOException {
    Objects.requireNonNull(option, "option");
    synchronized (stateLock) {
      PolledChannel current = open("getsockopt", null);
      NetworkChannel channel = (NetworkChannel) current.channel();
      if (ownOptionApplies(option)) {
        return option.type().cast(getOwnOption(current, option));
      }
      if (option == ExtendedSocketOptions.SO_PEERCRED
          && channel instanceof SocketChannel stream
          && !stream.isConnected()) {
        // Linux gives pid 0, uid -1 and gid -1 (no peer), which no UnixDomainPrincipal can hold;
        // the JDK fails on that uid with whatever errno an earlier call left
        throw Errors.of(Errno.ENOTCONN, "getsockopt " + option.name(), null);
      }
      if (channel.supportedOptions().contains(option)) {
        try {
          return asLinuxReports(option, channel.getOption(option));
        } catch (IOException e) {
          throw Errors.translate(e, "getsockopt " + option.name(), null);
        }
      }
      if (channel instanceof ServerSocketChannel && streamOption(option)) {
        return asLinuxReports(option, streamValue(option, options.get(option)));
      }
      throw notApplicable(option);
    }
  }

  /**
   * The bytes the kernel still holds in the socket's send queue: for TCP, those not yet sent and
   * those sent but not yet acknowledged by the peer. Beyond Python, which has no method for it:
   * python3 asks {@code fcntl.ioctl(sock, termios.TIOCOUTQ, buf)} ({@code SIOCOUTQ}), and so does
   * this. A close with {@code SO_LINGER} 0 throws these bytes away; waiting until this is 0 first
   * lets the peer have them before the reset.
   *
   * @throws ClosedSocketException if the socket is closed, as Python raises {@code EBADF}
   * @throws ErrnoException {@code EINVAL} for a listening socket, as Linux answers
   * @throws UnsupportedOperationException on the portable path, whose channels cannot ask
   */
  public int unsentBytes() throws IOException {
    return (int) countInKernel("unsentBytes", "ioctl SIOCOUTQ", StreamCalls::unsentBytes);
  }

  /**
   * How much of what this TCP socket sent its peer has acknowledged, counted by the kernel since
   * the connection began ({@code tcpi_bytes_acked}): a count that only grows, as the peer takes
   * bytes, so two readings tell whether it took any in between, where {@link #unsentBytes()} also
   * rises as more are sent. The peer's kernel acknowledges what its receive buffer takes, read or
   * not yet. As Linux counts it, the SYN of a connection this socket opened counts 1 (a connected
   * client starts at 1, an accepted socket at 0), and so does a FIN once acknowledged; 0 before a
   * connection. Beyond Python, which has no method for it: python3 unpacks it from {@code
   * sock.getsockopt(IPPROTO_TCP, TCP_INFO, 232)} ({@code struct.unpack_from('Q', info, 120)}), and
   * this asks the same.
   *
   * <pre>{@code
   * long before = conn.bytesAcknowledged();
   * // ... later: has the peer taken anything since?
   * boolean moving = conn.bytesAcknowledged() > before;
   * }</pre>
   *
   * @throws ClosedSocketException if the socket is closed, as Python raises {@code EBADF}
   * @throws ErrnoException for a socket that is not TCP, with the errno Linux answers: {@link
   *     Errno#EOPNOTSUPP} for AF_UNIX and AF_INET UDP, {@link Errno#ENOPROTOOPT} for AF_INET6 UDP
   * @throws UnsupportedOperationException on the portable path, whose channels cannot ask, and on
   *     Linux before 4.1
   */
  public long bytesAcknowledged() throws IOException {
    return countInKernel(
        "bytesAcknowledged", "getsockopt TCP_INFO", StreamCalls::bytesAcknowledged);
  }

  /** A count the kernel keeps for the socket, asked through {@link StreamCalls}. */
  private interface KernelCount {
    long of(int fd) throws StreamCalls.Failed;
  }

  /**
   * Asks {@code count} of the socket's descriptor, for {@link #unsentBytes} and {@link
   * #bytesAcknowledged}: 0 once another thread has closed it meanwhile (which the second look at
   * the socket reports), {@link UnsupportedOperationException} on the portable path.
   */
  private long countInKernel(String method, String operation, KernelCount count)
      throws IOException {
    synchronized (stateLock) {
      PolledChannel current = open(operation, null);
      if (!StreamCalls.isAvailable()) {
        throw new UnsupportedOperationException(
            method + " needs the epoll path's FFM calls, which the JDK's channels lack");
      }
      int fd = current.enterAnyCall();
      if (fd < 0) {
        open(operation, null); // closed by another thread meanwhile
        return 0;
      }
      try {
        return count.of(fd);
      } catch (StreamCalls.Failed e) {
        throw Errors.of(e.errno(), operation, null);
      } finally {
        current.exitCall();
      }
    }
  }

  /**
   * The bytes a receive could take now without waiting, for the input streams' {@code available()}
   * (the JDK's socket streams answer it with {@code FIONREAD} too): the bytes in the receive queue,
   * 0 at the end of the stream and while a connect goes on. On the epoll path {@code
   * ioctl(FIONREAD)}, which after {@code shutdown(SHUT_RD)} still counts what had arrived, as a
   * receive still returns it there; on the portable path the JDK's channel asks the same, and
   * answers 0 after a shutdown of the input, where its reads end at once. Over TLS, the plaintext
   * already decrypted and not yet taken: records still encrypted count for nothing, as in the JDK's
   * {@code SSLSocket}. On a datagram socket, the length of the datagram the next receive takes, as
   * Linux's {@code FIONREAD} gives it: first one a connect kept (see {@link #held}).
   *
   * @throws ClosedSocketException if the socket is closed
   * @throws ErrnoException what a receive throws on a stream socket that is not connected (a
   *     listener too): {@link Errno#ENOTCONN} for TCP, {@link Errno#EINVAL} over AF_UNIX
   */
  int unreadBytes() throws IOException {
    String operation = "ioctl FIONREAD";
    PolledChannel current =
        kind == SocketKind.SOCK_DGRAM ? open(operation, peer) : receiving(operation);
    if (current == null) {
      return 0; // the end of the stream, as a receive would find
    }
    if (held != null) {
      OptionalInt kept = heldDatagramLength();
      if (kept.isPresent()) {
        return kept.getAsInt(); // the JDK's connect took it from the kernel's queue
      }
    }
    if (tls != null) {
      return tls.bufferedPlaintext();
    }
    if (kind == SocketKind.SOCK_STREAM && !isConnected(current)) {
      return 0; // a connect in progress: nothing has come yet
    }
    return unreadInKernel(current, operation);
  }

  /**
   * {@code FIONREAD} on {@code current}'s socket, whatever this socket's own state says (the server
   * asks it of an accepted socket that a TLS wrap may have detached): the bytes in its receive
   * queue, the raw bytes under TLS.
   */
  private int unreadInKernel(PolledChannel current, String operation) throws IOException {
    int fd = current.enterAnyCall();
    if (fd < 0) {
      return unreadInChannel(current.channel(), operation); // the portable path, or closing
    }
    try {
      return StreamCalls.unreadBytes(fd);
    } catch (StreamCalls.Failed e) {
      throw Errors.of(e.errno(), operation, peer);
    } finally {
      current.exitCall();
    }
  }

  /**
   * {@code FIONREAD} as the JDK's channel asks it: the stream it gives for a socket channel answers
   * {@code available()} so, in any blocking mode and for AF_UNIX as for TCP (whose channel's socket
   * adaptor AF_UNIX lacks), and 0 once its input is shut down. 0 for a datagram channel, whose
   * stream cannot ask.
   */
  private int unreadInChannel(SelectableChannel channel, String operation) throws IOException {
    if (!(channel instanceof SocketChannel stream)) {
      return 0;
    }
    try {
      return Channels.newInputStream(stream).available();
    } catch (IOException e) {
      throw failure(e, operation, peer); // closed meanwhile
    }
  }

  /**
   * Describes the socket as Python's {@code repr} does: family, kind, and its addresses as {@link
   * #getSockName()} and {@link #getPeerName()} give them, leaving out one that fails or is an
   * unnamed AF_UNIX address (Python's {@code ''}).
   */
  @Override
  public String toString() {
    StringBuilder text = new StringBuilder("Socket[").append(family).append(", ").append(kind);
    if (closed) {
      return text.append(", closed]").toString();
    }
    appendAddress(text, ", laddr=", this::getSockName);
    appendAddress(text, ", raddr=", this::getPeerName);
    return text.append(']').toString();
  }

  private interface AddressQuery {
    SocketAddress get() throws IOException;
  }

  private static void appendAddress(StringBuilder text, String label, AddressQuery query) {
    SocketAddress address;
    try {
      address = query.get();
    } catch (IOException e) {
      return; // as Python's repr, which leaves out an address that raises
    }
    if (!(address instanceof UnixDomainSocketAddress unix && unix.getPath().toString().isEmpty())) {
      text.append(label).append(Addresses.format(address));
    }
  }

  // ---------------------------------------------------------------- internals

  /**
   * Makes this connected AF_UNIX socket an end of {@link Sockets#socketPair()}: the path of the
   * listener that paired it is gone, and Python names neither end of a pair ({@code ''}).
   */
  void unname() {
    unnamed = true;
    peer = UnixDomainSocketAddress.of("");
  }

  /**
   * The channel the socket uses now, for {@link SocketSelector}; it changes once, when {@link
   * #listen} turns the socket into a listener.
   */
  SelectableChannel selectableChannel() throws IOException {
    return open("select", null).channel();
  }

  private static PolledChannel openStream(Family family) throws IOException {
    try {
      return polled(SocketChannel.open(family.protocolFamily()));
    } catch (IOException e) {
      throw Errors.translate(e, "socket", null);
    }
  }

  /** A new channel made non-blocking and given its place in the poller, or closed again. */
  private static PolledChannel polled(SelectableChannel channel) throws IOException {
    try {
      channel.configureBlocking(false);
      return new PolledChannel(channel);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  private static PolledChannel openDatagram(Family family) throws IOException {
    if (family == Family.AF_UNIX) {
      throw new UnsupportedOperationException(
          "AF_UNIX datagram sockets are not supported: the JDK has Unix-domain stream channels"
              + " only");
    }
    try {
      return polled(DatagramChannel.open(family.protocolFamily()));
    } catch (IOException e) {
      throw Errors.translate(e, "socket", null);
    }
  }

  /** Sets (or changes) a datagram socket's default peer; it then receives from that peer only. */
  private void connectDatagram(SocketAddress target) throws IOException {
    synchronized (stateLock) {
      DatagramChannel channel = (DatagramChannel) open("connect to", target).channel();
      // the JDK connects a connected channel only after a disconnect, which Linux does not need
      SocketAddress previous = channel.isConnected() ? peer : null;
      try {
        hold(channel); // still connected: a pending error is reported to it, and kept
        if (previous != null) {
          channel.disconnect();
        }
        channel.connect(target);
        peer = channel.getRemoteAddress();
      } catch (IOException e) {
        IOException failure = Errors.translate(e, "connect to", target);
        if (previous != null) {
          reconnect(channel, previous, failure);
        }
        throw failure;
      }
    }
  }

  /**
   * Connects the channel again to the peer it had before a connect failed, since on Linux a failed
   * connect leaves a UDP socket's peer as it was (under stateLock).
   */
  private void reconnect(DatagramChannel channel, SocketAddress previous, IOException failure) {
    try {
      hold(channel);
      channel.connect(previous);
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  /**
   * Takes the datagrams queued on the channel into {@link #held} (under stateLock, then
   * datagramLock for the scratch buffer), before a connect would discard them. An unbound socket
   * has none.
   */
  private void hold(DatagramChannel channel) throws IOException {
    if (localAddressOf(channel) == null) {
      return;
    }
    // As much as the kernel's receive queue holds (it charges each datagram its length and more):
    // a peer that floods the socket meanwhile cannot make it hold without end (the rest the JDK's
    // connect discards, as a full queue drops datagrams)
    long room = channel.getOption(StandardSocketOptions.SO_RCVBUF);
    datagramLock.lock();
    try {
      while (room > 0) {
        ByteBuffer scratch = scratch();
        Kept next;
        try {
          SocketAddress source = channel.receive(scratch);
          if (source == null) {
            return;
          }
          byte[] data = new byte[scratch.flip().remaining()];
          scratch.get(data);
          room -= data.length + HELD_DATAGRAM_OVERHEAD;
          next = new KeptDatagram(new Datagram(data, source), false);
        } catch (SocketException e) {
          // an ICMP error from the old peer (port unreachable, admin-prohibited's EHOSTUNREACH,
          // protocol unreachable's ENOPROTOOPT): the kernel has cleared it, Linux's connect keeps
          // it
          next = new PendingError(e, peer);
        }
        if (held == null) {
          held = new ArrayDeque<>();
          HOLDING.incrementAndGet();
        }
        if (next instanceof PendingError) {
          held.addFirst(next); // Linux reports a socket's error before its queued datagrams
        } else {
          held.add(next);
        }
      }
    } finally {
      datagramLock.unlock();
    }
  }

  /**
   * The next datagram held since a connect (see {@link #held}), or null when there is none; one
   * that does not fit in {@code room} bytes is consumed with an error, as the channel's are. An
   * error held first is thrown, once.
   */
  private Datagram takeHeld(int room) throws IOException {
    if (held == null) {
      return null;
    }
    Kept taken;
    synchronized (stateLock) {
      ArrayDeque<Kept> queue = held;
      if (queue == null) {
        return null;
      }
      taken = queue.poll();
      if (queue.isEmpty()) {
        held = null;
        HOLDING.decrementAndGet();
      }
    }
    return switch (taken) {
      case PendingError error -> throw error.report("recv from");
      case KeptDatagram kept -> {
        Datagram next = kept.datagram();
        checkFits(next.data().length, room, next.address());
        if (!kept.counted()) {
          countReceived(next.data().length);
        }
        yield next;
      }
    };
  }

  /**
   * Puts a datagram a receive without datagramLock took from the channel (into {@code buffer} from
   * {@code start}) behind those a connect kept meanwhile, which are older, and takes it back out of
   * the buffer; false, leaving it there, when no datagram is held any more, or when it came from
   * another address than the one connected to: the kernel takes none from elsewhere once connected,
   * so it was taken before the connect kept the rest, and is older than they are.
   */
  private boolean keepBehindHeld(ByteBuffer buffer, int start, SocketAddress source) {
    synchronized (stateLock) {
      ArrayDeque<Kept> queue = held;
      if (queue == null || !source.equals(peer)) {
        return false;
      }
      byte[] data = new byte[buffer.position() - start];
      buffer.get(start, data);
      queue.add(new KeptDatagram(new Datagram(data, source), true));
    }
    buffer.position(start);
    return true;
  }

  /**
   * The length of the first datagram a connect kept (see {@link #held}), which the next receive
   * takes; empty when none is held. An error held before it does not count, as Linux's {@code
   * FIONREAD} counts the queue's first datagram whatever error is pending.
   */
  private OptionalInt heldDatagramLength() {
    synchronized (stateLock) {
      ArrayDeque<Kept> queue = held;
      if (queue != null) {
        for (Kept next : queue) {
          if (next instanceof KeptDatagram kept) {
            return OptionalInt.of(kept.datagram().data().length);
          }
        }
      }
    }
    return OptionalInt.empty();
  }

  /** What a connect kept (see {@link #held}): a datagram, or the error the kernel had pending. */
  private sealed interface Kept permits KeptDatagram, PendingError {}

  /**
   * A datagram a connect kept; {@code counted} if the meter has counted it already (one a receive
   * took and put back behind the others, see {@link #keepBehindHeld}).
   */
  private record KeptDatagram(Datagram datagram, boolean counted) implements Kept {}

  /**
   * Throws the error a connect kept (see {@link #held}) if it comes next, once: Linux reports a
   * pending error to the next call, a send as well as a receive, and that send sends nothing.
   */
  private void throwHeldError(String operation) throws IOException {
    PendingError pending;
    synchronized (stateLock) {
      ArrayDeque<Kept> queue = held;
      if (queue == null || !(queue.peek() instanceof PendingError first)) {
        return;
      }
      queue.poll();
      if (queue.isEmpty()) {
        held = null;
        HOLDING.decrementAndGet();
      }
      pending = first;
    }
    throw pending.report(operation);
  }

  /**
   * An error the kernel had pending for the old peer when a connect took it (see {@link #held}).
   */
  private record PendingError(SocketException cause, SocketAddress peer) implements Kept {
    IOException report(String operation) {
      return Errors.translate(cause, operation, peer);
    }
  }

  /** Whether this socket holds datagrams kept by a connect; for {@link SocketSelector}. */
  boolean holdsDatagrams() {
    return held != null;
  }

  /** Whether any socket holds datagrams kept by a connect; for {@link SocketSelector}. */
  static boolean anyHoldsDatagrams() {
    return HOLDING.get() > 0;
  }

  /** The longest IPv4 datagram Linux's {@code udp_sendmsg} takes further: UDP's 16-bit length. */
  private static final int MAX_IPV4_UDP_LENGTH = 0xFFFF;

  /** Sends one datagram to {@code target}, or to the connected peer when it is null. */
  private int sendDatagram(ByteBuffer data, SocketAddress target) throws IOException {
    PolledChannel current = open("send to", target == null ? peer : target);
    DatagramChannel channel = (DatagramChannel) current.channel();
    if (family == Family.AF_INET && data.remaining() > MAX_IPV4_UDP_LENGTH) {
      // Linux's udp_sendmsg refuses the length before it looks for a destination (udpv6 after)
      throw Errors.of(Errno.EMSGSIZE, "send to", target == null ? peer : target);
    }
    if (target == null && !channel.isConnected()) {
      throw Errors.of(Errno.EDESTADDRREQ, "send to", null);
    }
    SocketAddress to = target == null ? peer : target;
    if (target != null && channel.isConnected() && !isPeer(target)) {
      throw Errors.of(Errno.EISCONN, "send to", target);
    }
    if (held != null) {
      throwHeldError("send to");
    }
    int length = data.remaining();
    long deadline = Timeouts.NOT_STARTED;
    current.enterWriting();
    try {
      while (true) {
        int n;
        boolean sent;
        try {
          if (length == 0 && channel.isConnected()) {
            n = 0;
            sent = sendEmptyToPeer(current, channel, data, to);
          } else {
            n =
                target == null || channel.isConnected()
                    ? channel.write(data)
                    : channel.send(data, to);
            sent = n > 0 || length == 0;
          }
        } catch (IOException e) {
          throw failure(e, "send to", to);
        }
        countSent(n);
        // A datagram goes whole or not at all; an empty one "sends 0 bytes" and is gone.
        if (sent) {
          return n;
        }
        deadline = await(current, SelectionKey.OP_WRITE, deadline, "send to", to);
      }
    } finally {
      current.exitWriting();
    }
  }

  /**
   * Whether {@code target} is the connected peer. An IPv4 peer of an AF_INET6 socket has two names
   * (the JDK names a sender {@code 127.0.0.1}, a connect to {@code ::ffff:127.0.0.1} keeps that
   * form), which the kernel takes as one.
   */
  private boolean isPeer(SocketAddress target) {
    if (target.equals(peer)) {
      return true;
    }
    return target instanceof InetSocketAddress to
        && peer instanceof InetSocketAddress connected
        && to.getPort() == connected.getPort()
        && Addresses.unmapped(to.getAddress()).equals(Addresses.unmapped(connected.getAddress()));
  }

  /**
   * Sends an empty datagram to a connected peer, as Python's {@code send(b"")} does: the JDK's
   * connected {@code DatagramChannel.write} returns 0 for an empty buffer without a system call, so
   * this goes through {@link StreamCalls} (where they are not available, through the channel, which
   * sends nothing). False when the send buffer is full.
   */
  private boolean sendEmptyToPeer(
      PolledChannel current, DatagramChannel channel, ByteBuffer data, SocketAddress to)
      throws IOException {
    int fd = current.enterAnyCall();
    if (fd < 0) {
      channel.write(data); // closed: the channel's error; else nothing goes, as the JDK does
      return true;
    }
    return sendEmpty(current, fd, to);
  }

  /**
   * A {@code send(2)} of no bytes on {@code fd}, which the caller has entered ({@link
   * PolledChannel#enterCall()} or {@link PolledChannel#enterAnyCall()}) and this exits: false when
   * the send buffer is full.
   */
  private static boolean sendEmpty(PolledChannel current, int fd, SocketAddress to)
      throws IOException {
    MemorySegment state = current.takeState(true);
    try {
      return StreamCalls.sendEmpty(fd, state);
    } catch (StreamCalls.Failed e) {
      throw Errors.of(e.errno(), "send to", to);
    } finally {
      current.giveState(true, state);
      current.exitCall();
    }
  }

  private SocketAddress receive(DatagramChannel channel, ByteBuffer buffer) throws IOException {
    if (receivingOn == null) {
      SocketAddress local = localAddressOf(channel);
      if (local != null) {
        receivingOn = local;
      } else if (channel.isOpen()) {
        // The JDK's receive binds an unbound channel to an ephemeral port; Linux leaves it unbound
        // (nothing can arrive), so that a later bind works as in Python: wait for readiness
        // instead, which a sendTo from another thread brings once it has bound the socket.
        return null;
      } // else closed meanwhile: the receive below says so (a null here lost the bind's address)
    }
    int start = buffer.position();
    SocketAddress source;
    try {
      source = channel.receive(buffer);
    } catch (IOException e) {
      SocketAddress connected = peer;
      throw connected != null
          ? failure(e, "recv from", connected)
          : failure(e, "recv on", datagramsOn(channel));
    }
    if (source != null) {
      countReceived(buffer.position() - start);
    }
    return source;
  }

  /** The buffer a datagram of any size fits in, made on first use (guarded by datagramLock). */
  private ByteBuffer scratch() {
    if (scratch == null) {
      scratch = ByteBuffer.allocateDirect(MAX_DATAGRAM);
    }
    return scratch.clear();
  }

  private static void checkFits(int length, int room, SocketAddress source) throws IOException {
    if (length > room) {
      throw new ErrnoException(
          Errors.message(
              "recv from",
              source,
              "message too long: a datagram of "
                  + length
                  + " bytes does not fit in "
                  + room
                  + " (Python would cut it short)"),
          Errno.EMSGSIZE,
          source);
    }
  }

  private static void checkBufsize(int bufsize) {
    if (bufsize < 0) {
      throw new IllegalArgumentException("bufsize must not be negative: " + bufsize);
    }
  }

  private static void checkWritable(ByteBuffer buffer) {
    Objects.requireNonNull(buffer, "buffer");
    if (buffer.isReadOnly()) {
      throw new IllegalArgumentException("buffer is read-only");
    }
  }

  /**
   * A listening channel at {@code local} (null: every interface, port 0), to replace {@code
   * holder}, the socket's unbound stream or stopped listener. For an inet socket the holder keeps
   * the address until the listener has it: both carry SO_REUSEADDR, which Linux allows while
   * neither listens, so no other socket can take the port in between.
   */
  private PolledChannel openListener(NetworkChannel holder, SocketAddress local, int backlog)
      throws IOException {
    PosixFileAttributes boundFile = null;
    ServerSocketChannel listener = ServerSocketChannel.open(family.protocolFamily());
    try {
      for (var entry : options.entrySet()) {
        if (listener.supportedOptions().contains(entry.getKey())) {
          setRaw(listener, entry.getKey(), entry.getValue());
        }
      }
      listener.configureBlocking(false);
      PolledChannel listening = new PolledChannel(listener);
      // before the bind, which IPV6_V6ONLY needs; the listener's TCP options are those of the
      // sockets Linux accepts on it
      setOwnOptions(listening);
      if (local == null && family.isInet()) {
        local = new InetSocketAddress(Addresses.anyLocal(family == Family.AF_INET6), 0);
      } else if (family.isInet()) {
        holder.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      } else { // AF_UNIX, bound (listen refuses an unbound one)
        // a Unix-domain path is a file that only one socket can hold: the listener binds once it
        // is gone, and the old channel stays open (and bound) until then, so that a listen that
        // fails leaves the socket as it was (listen() closes it once the listener has the path)
        Path path = ((UnixDomainSocketAddress) local).getPath();
        if (path.toString().isEmpty()) {
          // Linux's autobind gave it an abstract name, which a new channel cannot bind again
          throw Errors.of(Errno.EINVAL, "listen on", local);
        }
        boundFile = socketFileAttributes(path);
        removeOwnSocketFile(path, "listen on");
      }
      listener.bind(local, Math.max(1, backlog));
      if (backlog == 0) {
        // the JDK takes a backlog below 1 for its default (50), so it was given 1, which queues
        // two clients; Linux's listen(0) queues one (the portable path keeps the JDK's two)
        listenInKernel(listening, 0, local);
      }
      if (local instanceof UnixDomainSocketAddress unix) {
        if (boundFile != null) {
          keepSocketFileAttributes(unix.getPath(), boundFile);
        }
        boundFileIdentity = UnixSocketFiles.identity(unix.getPath());
      }
      if (options.get(StandardSocketOptions.SO_REUSEADDR) instanceof Boolean reuse) {
        listener.setOption(StandardSocketOptions.SO_REUSEADDR, reuse);
      }
      if (options.get(StandardSocketOptions.TCP_NODELAY) instanceof Boolean noDelay) {
        setNoDelayOnListener(listening, noDelay);
      }
      shutAsBefore(listening);
      if ((unixShutUnconnected & 1) != 0) {
        unixListenerShut = true; // refuses new clients, as the shut socket's listen does on Linux
      }
      return listening;
    } catch (IOException e) {
      listener.close();
      throw Errors.translate(e, "listen on", local);
    }
  }

  /**
   * Removes the socket file this socket's bind made at {@code path}, so that a new channel can bind
   * there; refuses ({@code EADDRINUSE}) if another socket or file has taken the path since (Linux
   * never removes it: it listens on the bound socket, whatever the path now names). A path that is
   * gone is left so. Guarded by stateLock.
   */
  private void removeOwnSocketFile(Path path, String operation) throws IOException {
    Object identity = UnixSocketFiles.identity(path);
    if (identity == null) {
      return;
    }
    if (!identity.equals(boundFileIdentity)) {
      throw new AddressInUseException(
          Errors.message(
              operation,
              UnixDomainSocketAddress.of(path),
              "address already in use (another socket or file has taken the path since the bind)"),
          UnixDomainSocketAddress.of(path));
    }
    Files.delete(path);
  }

  /** The mode, owner and group of the socket file at {@code path}; null if it is gone. */
  private static PosixFileAttributes socketFileAttributes(Path path) throws IOException {
    try {
      return Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException gone) {
      return null;
    }
  }

  /**
   * Gives the listener's socket file the mode, owner and group that the bound socket's file had: on
   * Linux {@code listen} keeps the file that {@code bind} made, so a {@code chmod} or {@code chown}
   * in between (as servers do to let other users connect) holds for the listening socket.
   */
  private static void keepSocketFileAttributes(Path path, PosixFileAttributes bound)
      throws IOException {
    // links followed: the JDK changes a mode without following by opening the file, which a
    // socket file refuses (ENXIO); the listener has just made the file at the path itself
    PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
    PosixFileAttributes made = view.readAttributes();
    if (!made.owner().equals(bound.owner())) {
      view.setOwner(bound.owner());
    }
    if (!made.group().equals(bound.group())) {
      view.setGroup(bound.group());
    }
    if (!made.permissions().equals(bound.permissions())) {
      view.setPermissions(bound.permissions());
    }
  }

  /**
   * Sets {@code TCP_NODELAY} on a listening socket itself, which the JDK's channel refuses: Linux
   * gives every socket accepted there the listener's setting (what Python's {@code setsockopt} on a
   * listener relies on), so {@link #wrapAccepted} need not set it on each, one system call per
   * connection. Where the FFM calls are not available, it does (see {@link #listenerHoldsNoDelay});
   * a listener that is closing accepts nothing more.
   */
  private static void setNoDelayOnListener(PolledChannel listener, boolean on) throws IOException {
    setIntOption(listener, IPPROTO_TCP, TCP_NODELAY_OPTNAME, on ? 1 : 0, "TCP_NODELAY");
  }

  /**
   * {@code setsockopt} of an int through the FFM calls, which the caller knows are available; a
   * socket that is closing takes nothing more.
   *
   * @param optionName the name the error message gives: {@code setsockopt NAME: ...}
   */
  private static void setIntOption(
      PolledChannel polled, int level, int name, int value, String optionName) throws IOException {
    int fd = polled.enterAnyCall();
    if (fd < 0) {
      return;
    }
    try {
      StreamCalls.setIntOption(fd, level, name, value);
    } catch (StreamCalls.Failed e) {
      throw Errors.of(e.errno(), "setsockopt " + optionName, null);
    } finally {
      polled.exitCall();
    }
  }

  /**
   * Whether a listener's {@code TCP_NODELAY} is on its socket in the kernel, whence accepted
   * sockets inherit it ({@link #setNoDelayOnListener}): wherever the FFM calls are available.
   */
  private static boolean listenerHoldsNoDelay() {
    return StreamCalls.isAvailable();
  }

  /**
   * Whether {@code option} is one of jsock's own ({@link Sockets#IPV6_V6ONLY}, {@link
   * Sockets#TCP_USER_TIMEOUT}, {@link Sockets#TCP_SYNCNT}), which the JDK's channels do not know,
   * and applies to this socket: the first to an IPv6 one, the others to a TCP one.
   */
  private boolean ownOptionApplies(SocketOption<?> option) {
    if (option == Sockets.IPV6_V6ONLY) {
      return family == Family.AF_INET6;
    }
    return (option == Sockets.TCP_USER_TIMEOUT || option == Sockets.TCP_SYNCNT)
        && family.isInet()
        && kind == SocketKind.SOCK_STREAM;
  }

  private static boolean isOwnOption(SocketOption<?> option) {
    return option == Sockets.IPV6_V6ONLY
        || option == Sockets.TCP_USER_TIMEOUT
        || option == Sockets.TCP_SYNCNT;
  }

  /** An own option's level and name, as Linux numbers them: {level, optname}. */
  private static int[] ownOptionNumbers(SocketOption<?> option) {
    if (option == Sockets.IPV6_V6ONLY) {
      return new int[] {IPPROTO_IPV6, IPV6_V6ONLY_OPTNAME};
    }
    return new int[] {
      IPPROTO_TCP, option == Sockets.TCP_SYNCNT ? TCP_SYNCNT_OPTNAME : TCP_USER_TIMEOUT_OPTNAME
    };
  }

  /** Sets the own options recorded for this socket on the channel that takes its place. */
  private void setOwnOptions(PolledChannel polled) throws IOException {
    for (var entry : options.entrySet()) {
      if (isOwnOption(entry.getKey())) {
        setOwnOption(polled, entry.getKey(), entry.getValue());
      }
    }
  }

  /**
   * Sets one of jsock's own options through the FFM calls; the kernel checks the value (EINVAL), as
   * for Python. Where the calls are not available only the value every socket has there is taken:
   * {@code IPV6_V6ONLY} off (the JDK's IPv6 sockets are dual-stack) and a user timeout of 0.
   *
   * @param value a {@code Boolean} for {@code IPV6_V6ONLY}, else an {@code Integer}
   */
  private static void setOwnOption(PolledChannel polled, SocketOption<?> option, Object value)
      throws IOException {
    int number = value instanceof Boolean on ? (on ? 1 : 0) : (Integer) value;
    if (!StreamCalls.isAvailable()) {
      if (number == 0 && option != Sockets.TCP_SYNCNT) {
        return;
      }
      throw new UnsupportedOperationException(
          option == Sockets.IPV6_V6ONLY
              ? "IPV6_V6ONLY needs the epoll path's FFM calls: the JDK's IPv6 sockets are dual-stack"
              : option.name() + " needs the epoll path's FFM calls, which the JDK's channels lack");
    }
    int[] numbers = ownOptionNumbers(option);
    setIntOption(polled, numbers[0], numbers[1], number, option.name());
  }

  /**
   * One of jsock's own options as the kernel has it (see {@link #setOwnOption}); where it cannot be
   * asked, what every socket has there ({@code IPV6_V6ONLY} off, a user timeout of 0), and no syn
   * count.
   */
  private static Object getOwnOption(PolledChannel polled, SocketOption<?> option)
      throws IOException {
    if (!StreamCalls.isAvailable() && option == Sockets.TCP_SYNCNT) {
      throw new UnsupportedOperationException(
          option.name() + " needs the epoll path's FFM calls, which the JDK's channels lack");
    }
    int fd = StreamCalls.isAvailable() ? polled.enterAnyCall() : -1;
    int number = 0;
    if (fd >= 0) {
      int[] numbers = ownOptionNumbers(option);
      try {
        number = StreamCalls.getIntOption(fd, numbers[0], numbers[1]);
      } catch (StreamCalls.Failed e) {
        throw Errors.of(e.errno(), "getsockopt " + option.name(), null);
      } finally {
        polled.exitCall();
      }
    }
    return option == Sockets.IPV6_V6ONLY ? (Object) (number != 0) : (Object) number;
  }

  /** EINVAL from {@code listen}, saying why Linux refuses: {@code invalid argument (why)}. */
  private static ErrnoException cannotListen(SocketAddress local, String why) {
    return new ErrnoException(
        Errors.message("listen on", local, "invalid argument (" + why + ")"), Errno.EINVAL, local);
  }

  /**
   * {@code listen(2)} on a listener, as Linux takes it: with the new backlog, and for a listener
   * that a shutdown stopped, listening again (the kernel's socket is still bound, and the JDK's
   * channel accepts from it again once it listens). Guarded by stateLock.
   */
  private void listenAgain(PolledChannel current, ServerSocketChannel listener, int backlog)
      throws IOException {
    SocketAddress local = localAddressOf(listener);
    if (!listenInKernel(current, backlog, local)) {
      if (listenerStopped) {
        throw Errors.closed("listen on", local);
      }
      return; // the portable path (or a close meanwhile): the JDK keeps the first backlog
    }
    listenerStopped = false;
  }

  /**
   * {@code listen(2)} with {@code backlog} on a listener's socket, where jsock calls the kernel (a
   * backlog of 0 included, which the JDK cannot pass); false where it does not (the portable path,
   * or a close meanwhile).
   */
  private static boolean listenInKernel(PolledChannel listener, int backlog, SocketAddress local)
      throws IOException {
    int fd = listener.enterAnyCall();
    if (fd < 0) {
      return false;
    }
    try {
      StreamCalls.listen(fd, backlog);
    } catch (StreamCalls.Failed e) {
      throw Errors.of(e.errno(), "listen on", local);
    } finally {
      listener.exitCall();
    }
    return true;
  }

  private Accepted wrapAccepted(SocketChannel conn) throws IOException {
    try {
      conn.configureBlocking(false);
      SocketAddress address = conn.getRemoteAddress();
      PolledChannel polled = new PolledChannel(conn);
      if (family.isInet()) {
        polled.acceptedUnread(); // as readStream notes a short read: not for AF_UNIX
      }
      Socket socket = new Socket(family, kind, polled, Sockets.defaultTimeoutNanos(), null);
      socket.peer = address;
      if (family.isInet()) { // Linux makes an AF_UNIX connection afresh, a TCP one as a copy
        synchronized (stateLock) {
          socket.lingerInherited = lingers();
          if (!options.isEmpty()) {
            // those the listening socket holds in the kernel (TCP_KEEPIDLE, ...) came with the copy
            Set<SocketOption<?>> held = ((NetworkChannel) this.polled.channel()).supportedOptions();
            for (var entry : options.entrySet()) {
              if (streamOption(entry.getKey())
                  && conn.supportedOptions().contains(entry.getKey())
                  && !held.contains(entry.getKey())
                  && !(entry.getKey() == StandardSocketOptions.TCP_NODELAY
                      && listenerHoldsNoDelay())) {
                setRaw(conn, entry.getKey(), entry.getValue());
              }
            }
          }
        }
      }
      return new Accepted(socket, address);
    } catch (IOException e) {
      conn.close();
      throw Errors.translate(e, "accept on", null);
    } catch (RuntimeException e) {
      conn.close();
      throw e;
    }
  }

  /**
   * The stream channel to connect with: after a failed connect the JDK has closed the old one, and
   * Python allows connecting again, so a fresh channel has taken its place (bound as the old one
   * was; see {@link #open}).
   */
  private PolledChannel connectingChannel(SocketAddress target) throws IOException {
    synchronized (stateLock) {
      PolledChannel current = open("connect to", target);
      if (!(current.channel() instanceof SocketChannel channel)) {
        // a listener, as Linux says: TCP EISCONN, AF_UNIX EINVAL (unix_stream_connect); a TCP
        // one that a shutdown stopped listening is EINVAL too
        checkUnixPath(target);
        throw Errors.of(
            family.isInet() && !listenerStopped ? Errno.EISCONN : Errno.EINVAL,
            "connect to",
            target);
      }
      if (listenerStopped) {
        // a stopped listener bound again (bindInPlaceOfStoppedListener): still EINVAL, as Linux
        throw Errors.of(Errno.EINVAL, "connect to", target);
      }
      if (channel.isConnected()) {
        if (connectUnclaimed) {
          connectUnclaimed = false; // this connect is the one that completes it, as on Linux
          int error = closedSinceConnectedError(current);
          if (error != 0) {
            throw disconnectClosed(error, target);
          }
          return current;
        }
        checkUnixPath(target);
        throw Errors.of(Errno.EISCONN, "connect to", target);
      }
      SocketAddress aborted = connectAborted;
      if (aborted != null && connectAbortedShut) {
        throw Errors.of(Errno.EINVAL, "connect to", target); // disconnecting, for good (Linux)
      }
      if (aborted != null) {
        // Linux's connect finds the socket still connecting, its connect ended: ECONNABORTED,
        // whatever the address, and the socket unconnected from then on (a new attempt next)
        connectAborted = null;
        throw Errors.of(Errno.ECONNABORTED, "connect to", target);
      }
      return current; // open: one a failed connect closed has been replaced (see open)
    }
  }

  /**
   * For the connect that claims a connect completed by another call (or by a connect in timeout
   * mode that waited): Linux's socket, still connecting, finds its connection closed since (a
   * reset, a user timeout: TCP's state {@code TCP_CLOSE}) and answers the pending error ({@code
   * SO_ERROR}, which it takes), else {@code ECONNABORTED}; 0 while the connection lives. The epoll
   * path only (the portable one cannot ask the kernel).
   */
  private int closedSinceConnectedError(PolledChannel current) throws IOException {
    if (!family.isInet() || !StreamCalls.isAvailable()) {
      return 0;
    }
    int fd = current.enterAnyCall();
    if (fd < 0) {
      return 0;
    }
    try {
      int info = StreamCalls.getIntOption(fd, IPPROTO_TCP, TCP_INFO_OPTNAME);
      // tcpi_state, the first byte of struct tcp_info
      int state = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? info & 0xff : info >>> 24;
      if (state != TCP_CLOSE_STATE) {
        return 0;
      }
      int error = StreamCalls.getIntOption(fd, SOL_SOCKET, SO_ERROR_OPTNAME);
      return error != 0 ? error : Errno.ECONNABORTED;
    } catch (StreamCalls.Failed e) {
      return 0; // the socket's own calls say what became of it
    } finally {
      current.exitCall();
    }
  }

  /**
   * The error of a connect that found its socket's connection closed ({@link
   * #closedSinceConnectedError}): Linux's socket is unconnected from then on (a fresh channel,
   * bound as before, takes the closed one's place), and the next connect a new attempt. Under
   * stateLock.
   */
  private IOException disconnectClosed(int error, SocketAddress target) {
    IOException failure = Errors.of(error, "connect to", target);
    peer = null;
    try {
      replaceClosedStream(); // closes the old one
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
    }
    return failure;
  }

  /**
   * Linux's AF_UNIX connect looks the path up before it looks at the socket's own state, so a
   * listener's or a connected socket's connect to a path with nothing there is {@code ENOENT}, and
   * to a file that is no socket {@code ECONNREFUSED}, before {@code EINVAL} or {@code EISCONN}.
   */
  private static void checkUnixPath(SocketAddress target) throws IOException {
    if (target instanceof UnixDomainSocketAddress unix) {
      BasicFileAttributes attributes;
      try {
        attributes = Files.readAttributes(unix.getPath(), BasicFileAttributes.class);
      } catch (NoSuchFileException e) {
        throw Errors.of(Errno.ENOENT, "connect to", target);
      } catch (IOException e) {
        return; // the kernel's lookup decides no more than this socket's state does
      }
      if (attributes.isRegularFile() || attributes.isDirectory()) {
        throw Errors.of(Errno.ECONNREFUSED, "connect to", target);
      }
    }
  }

  /**
   * A fresh stream channel in place of the one the JDK closed when a connect failed, with the
   * options set and bound as the old one was, so that options, {@code bind} and another {@code
   * connect} work as on Python's socket; if that fails, the closed one stays, and says so.
   */
  private PolledChannel replaceClosedStream() throws IOException {
    synchronized (stateLock) {
      if (closed) {
        return polled; // closed by another thread: no fresh channel bound after the close returned
      }
      releaseClosedStream();
      PolledChannel fresh = freshStream();
      try {
        NetworkChannel network = (NetworkChannel) fresh.channel();
        if (boundAddress instanceof UnixDomainSocketAddress unix) {
          removeOwnSocketFile(unix.getPath(), "bind to"); // the closed channel's own file
        } else if (boundAddress instanceof InetSocketAddress inet
            && inet.getPort() != 0
            && !options.containsKey(StandardSocketOptions.SO_REUSEADDR)) {
          // as bind set it (an option the user set has been replayed above)
          network.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        }
        if (boundAddress != null) {
          network.bind(boundAddress);
        }
        if (boundAddress instanceof UnixDomainSocketAddress unix) {
          boundFileIdentity = UnixSocketFiles.identity(unix.getPath());
        }
        shutAsBefore(fresh);
      } catch (IOException | RuntimeException e) {
        fresh.channel().close();
        throw e;
      }
      polled = fresh;
      return fresh;
    }
  }

  /**
   * Lets go of the stream channel the JDK closed when a connect failed (its place in the poller,
   * the attempt's target), before a fresh one takes its place, at once or when the socket is used
   * again. Repeatable. Under stateLock.
   */
  private void releaseClosedStream() throws IOException {
    polled.close(); // leaving the poller releases the old fd now
    pendingTarget = null;
    if (family.isInet()) {
      inputShut = false; // Linux's next connect clears a shutdown made before the one that failed
    }
  }

  /**
   * A new stream channel with the options set on this socket, to take the place of its channel.
   * Guarded by stateLock.
   */
  private PolledChannel freshStream() throws IOException {
    PolledChannel fresh = openStream(family);
    try {
      NetworkChannel network = (NetworkChannel) fresh.channel();
      for (var entry : options.entrySet()) {
        if (isOwnOption(entry.getKey())) {
          setOwnOption(fresh, entry.getKey(), entry.getValue());
        } else {
          setRaw(network, entry.getKey(), entry.getValue());
        }
      }
    } catch (IOException | RuntimeException e) {
      fresh.channel().close();
      throw e;
    }
    return fresh;
  }

  /**
   * Shuts down the socket of a channel that takes an AF_UNIX socket's place (a listener, or a fresh
   * channel after a failed connect) as {@link #shutdown} had shut the one it replaces, which Linux
   * keeps as one socket. Guarded by stateLock.
   */
  private void shutAsBefore(PolledChannel replacing) throws IOException {
    if (unixShutUnconnected == 0) {
      return;
    }
    int fd = replacing.enterAnyCall();
    if (fd < 0) {
      return; // the portable path, whose shutdown refused the first
    }
    try {
      StreamCalls.shutdown(fd, unixShutUnconnected - 1); // SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2
    } catch (StreamCalls.Failed e) {
      throw Errors.of(e.errno(), "shutdown", null);
    } finally {
      replacing.exitCall();
    }
  }

  /**
   * The current channel, or ClosedSocketException after close(). A stream's that the JDK closed
   * when a connect failed is replaced first (see {@link #mayReplaceWhenUsedAgain}; or the connect's
   * thread has not taken stateLock again yet): Linux's socket stays itself through a failed
   * connect, its options kept, and the closed channel's descriptor number may be another file's.
   */
  private PolledChannel open(String operation, SocketAddress address) throws IOException {
    PolledChannel current = polled;
    if (closed) {
      throw detachedTo != null
          ? new ClosedSocketException(
              Errors.message(operation, address, "socket was wrapped for TLS"), address)
          : Errors.closed(operation, address);
    }
    if (current.channel() instanceof SocketChannel stream && !stream.isOpen()) {
      return replaceFailedConnectsChannel(operation, address);
    }
    return current;
  }

  /** {@link #open}'s replacement of a channel a failed connect closed; not on a hot path. */
  private PolledChannel replaceFailedConnectsChannel(String operation, SocketAddress address)
      throws IOException {
    synchronized (stateLock) {
      PolledChannel current = polled;
      if (closed || current.channel().isOpen()) {
        return current; // closed meanwhile (the caller's call says so), or replaced by another
      }
      try {
        return replaceClosedStream();
      } catch (IOException e) {
        throw Errors.translate(e, operation, address);
      }
    }
  }

  private void ensureOpen(String operation) throws IOException {
    open(operation, null);
  }

  /** The channel of a connected socket, or ENOTCONN, as Linux answers most calls. */
  private PolledChannel connected(String operation) throws IOException {
    PolledChannel current = open(operation, peer);
    if (!isConnected(current)) {
      open(operation, peer); // closed by another thread meanwhile (a closed channel is unconnected)
      throw Errors.of(Errno.ENOTCONN, operation, null);
    }
    return current;
  }

  /**
   * The channel of a stream to receive from, connected or with a connect in progress (which the
   * caller completes with {@link #awaitConnected} before it reads, as Linux's {@code recv(2)} waits
   * for it), or the error Linux gives a read; null for the end of the stream, after a connect whose
   * error no connect call took ({@link #connectAborted}).
   */
  private PolledChannel receiving(String operation) throws IOException {
    PolledChannel current = open(operation, peer);
    if (!isConnected(current)) {
      if (current.channel() instanceof SocketChannel stream && stream.isConnectionPending()) {
        return current;
      }
      open(operation, peer); // closed by another thread meanwhile, as in connected()
      if (connectAborted != null) {
        return null; // the end of the stream: a failed connect shut the receive side (Linux)
      }
      if (inputShut && family.isInet() && current.channel() instanceof SocketChannel) {
        return null; // shut down before it connected: Linux's shutdown shut it all the same
      }
      // TCP answers ENOTCONN, AF_UNIX EINVAL
      throw Errors.of(family == Family.AF_UNIX ? Errno.EINVAL : Errno.ENOTCONN, operation, null);
    }
    return current;
  }

  /**
   * The channel of a stream to send on, connected or with a connect in progress (which the caller
   * completes with {@link #awaitConnected} before it writes), or the error Linux gives a write.
   */
  private PolledChannel sending(String operation) throws IOException {
    return sending(operation, null);
  }

  /** As {@link #sending(String)}, naming {@code given} (a sendTo's address) if not connected. */
  private PolledChannel sending(String operation, SocketAddress given) throws IOException {
    PolledChannel current = open(operation, peer);
    if (!isConnected(current)
        && !(current.channel() instanceof SocketChannel stream && stream.isConnectionPending())) {
      open(operation, peer); // closed by another thread meanwhile, as in connected()
      // TCP answers EPIPE, AF_UNIX ENOTCONN; named as given, else the address a connect whose error
      // no connect call took tried (as recvFrom names it), else none: there is no peer
      SocketAddress named = given != null ? given : connectAborted;
      throw Errors.of(family.isInet() ? Errno.EPIPE : Errno.ENOTCONN, operation, named);
    }
    return current;
  }

  /**
   * Completes a connect still in progress before a send, as Linux's {@code send(2)} waits for it,
   * and returns the deadline the wait started ({@link Timeouts#NOT_STARTED} if it did not wait), so
   * that the timeout bounds the whole call. Where the connect is done (the usual case: {@link
   * #peer} is set once it is), returns at once. In non-blocking mode a connect that goes on throws
   * {@link WouldBlockException} ({@code EAGAIN}); a connect that failed throws its error, as
   * Python's {@code send} raises it, and the socket gets a fresh channel as after {@link #connect}.
   */
  private long awaitConnected(PolledChannel current, String operation) throws IOException {
    if (peer != null || !(current.channel() instanceof SocketChannel channel)) {
      return Timeouts.NOT_STARTED;
    }
    SocketAddress target = pendingTarget;
    long deadline = Timeouts.NOT_STARTED;
    // several threads (recvs, sends) may wait for the connect's one edge (see enterWriting)
    current.enterWriting();
    try {
      // the wait takes the socket's timeout: one whose connect is in progress has no send
      // timeout of its own (the server framework gives one to accepted sockets only)
      while (!finishConnectUnclaimed(current, channel, target)) {
        deadline = await(current, SelectionKey.OP_CONNECT, deadline, operation, target);
      }
      peer = channel.getRemoteAddress();
      return deadline;
    } catch (IOException e) {
      throw connectFailed(current, e, operation, target); // noted by finishConnectUnclaimed
    } finally {
      current.exitWriting();
    }
  }

  /**
   * For {@link SocketSelector}: completes in the JDK's channel a connect in progress that the
   * kernel has completed without error (the selector found it writable and not in error), as
   * Linux's socket is connected by then: the JDK's channel reports no input before. The next {@code
   * connect} still returns at once without error, as on Linux ({@link #connectUnclaimed}).
   */
  void completeConnect() {
    PolledChannel current = polled;
    if (peer != null
        || !(current.channel() instanceof SocketChannel channel)
        || !channel.isConnectionPending()) {
      return;
    }
    try {
      finishConnectUnclaimed(current, channel, null);
    } catch (IOException e) {
      // not reached (a connect that succeeded stays so), but a fresh channel must then take the
      // closed one's place, as after any failed connect
      connectFailed(current, e, "connect to", pendingTarget);
    }
  }

  /**
   * {@link #finishConnect} for a call other than {@code connect} (a send, a receive, a selector):
   * if it is the one that completes the connect, it leaves it unclaimed ({@link #connectUnclaimed})
   * under stateLock, so that a connect call that completed it first, or completes it after, is not
   * undone: its own {@code connectUnclaimed = false} follows its finishConnect, and this one's
   * finds the connect no longer pending. A failure is noted as one no connect call took ({@link
   * #finishConnect(PolledChannel, SocketAddress)}) if {@code target} is not null.
   */
  private boolean finishConnectUnclaimed(
      PolledChannel current, SocketChannel channel, SocketAddress target) throws IOException {
    synchronized (stateLock) {
      boolean pending = channel.isConnectionPending();
      boolean connected;
      try {
        connected = current.connectStep(SocketChannel::finishConnect);
      } catch (IOException e) {
        if (target != null) {
          noteConnectAborted(current, e, target);
        }
        throw e;
      }
      if (connected && pending) {
        peer = channel.getRemoteAddress();
        connectUnclaimed = true;
      }
      return connected;
    }
  }

  /**
   * The address a stream's {@code recvFrom} gives at the end of the stream a failed connect left
   * ({@link #connectAborted}): the one that connect tried, where Python gives {@code None} (a
   * {@link Datagram} has an address, and a connected stream's is its peer's).
   */
  private SocketAddress abortedConnectTarget() throws IOException {
    SocketAddress target = connectAborted;
    if (target == null) {
      throw Errors.of(Errno.ENOTCONN, "recv from", null); // a connect took it meanwhile
    }
    return target;
  }

  /**
   * Notes, as the JDK's finishConnect fails (under stateLock), that the connect to {@code target}
   * failed with no connect call taking its error (see {@link #connectAborted}): if the JDK closed
   * the channel for it, not a close of the socket's, nor a wait that ended first (a timeout,
   * would-block, an interrupt), nor a channel that another call's failed connect had closed ({@code
   * ClosedChannelException}: that call took the error).
   */
  private void noteConnectAborted(PolledChannel current, IOException e, SocketAddress target) {
    if (target != null
        && family.isInet()
        && !(e instanceof ClosedChannelException)
        && !current.channel().isOpen()
        && !closed) {
      connectAborted = target;
    }
  }

  /**
   * What a failed connect throws, once the socket has a fresh channel in place of the one the JDK
   * closed (Python's socket stays usable); a channel that another thread, failing too, has already
   * replaced is left alone.
   */
  private IOException connectFailed(
      PolledChannel current, IOException e, String operation, SocketAddress target) {
    synchronized (stateLock) {
      if (!current.channel().isOpen() && polled == current) {
        try {
          if (mayReplaceWhenUsedAgain()) {
            releaseClosedStream();
          } else {
            replaceClosedStream();
          }
        } catch (IOException | RuntimeException reopen) {
          e.addSuppressed(reopen);
        }
      }
    }
    return failure(e, operation, target);
  }

  /**
   * Whether the fresh channel after a failed connect may wait for the socket's next use ({@link
   * #open}): nothing the closed channel had must be held meanwhile (a bound port or file, a
   * shutdown of an unconnected AF_UNIX socket, a selector's registration). A socket closed after a
   * refused connect, as every port of a scan and every failed attempt of {@code createConnection},
   * then opens no socket only to close it. Under stateLock.
   */
  private boolean mayReplaceWhenUsedAgain() {
    return boundAddress == null && unixShutUnconnected == 0 && selectors.isEmpty();
  }

  private static boolean isConnected(PolledChannel current) {
    return switch (current.channel()) {
      case SocketChannel stream -> stream.isConnected();
      case DatagramChannel datagram -> datagram.isConnected();
      default -> false;
    };
  }

  /**
   * Waits for readiness in blocking and timeout modes; in non-blocking mode, or once the deadline
   * has passed, throws what Python raises. Returns the deadline, started now (from the timeout of
   * the direction waited for) if it was {@link Timeouts#NOT_STARTED}.
   *
   * <p>The mode is read at the call's first wait (its deadline not started) only: the kernel takes
   * the mode at the call, so a call of Python's waiting in the kernel waits on when another thread
   * makes the socket non-blocking, and a wakeup that finds nothing (another thread took it) must
   * not end it with {@code EAGAIN}.
   */
  private long await(
      PolledChannel current, int op, long deadline, String operation, SocketAddress address)
      throws IOException {
    if (deadline != Timeouts.NOT_STARTED) {
      return await(current, op, deadline, false, operation, address);
    }
    // read once, mode and timeout together: read twice, a setBlocking(false) in between made a
    // call that began in timeout mode wait without a deadline (setMode sets both fields)
    long timeout = op == SelectionKey.OP_WRITE ? sendTimeoutNanos : timeoutNanos;
    if (timeout == Timeouts.NON_BLOCKING) {
      throw Errors.wouldBlock(operation, address);
    }
    return waitUntil(current, op, Timeouts.deadline(timeout), operation, address);
  }

  /**
   * {@link #await(PolledChannel, int, long, String, SocketAddress)} in a mode the caller read, for
   * the calls whose deadline starts before their first wait ({@code sendAll}, {@code sendFile},
   * TLS): they read the mode with their timeout.
   */
  private long await(
      PolledChannel current,
      int op,
      long deadline,
      boolean nonBlocking,
      String operation,
      SocketAddress address)
      throws IOException {
    if (nonBlocking) {
      throw Errors.wouldBlock(operation, address);
    }
    long started = deadline;
    if (deadline == Timeouts.NOT_STARTED) {
      // the operation's first wait: its deadline starts now, and has not passed
      started = Timeouts.deadline(op == SelectionKey.OP_WRITE ? sendTimeoutNanos : timeoutNanos);
    } else if (Timeouts.hasPassed(deadline)) {
      throw timedOut(op, operation, address);
    }
    return waitUntil(current, op, started, operation, address);
  }

  /** The timeout of a wait for {@code op}: a send's is noted on the meter. */
  private java.net.SocketTimeoutException timedOut(
      int op, String operation, SocketAddress address) {
    return op == SelectionKey.OP_WRITE
        ? sendTimedOut(operation, address)
        : Errors.timedOut(operation, address);
  }

  /**
   * A send's timeout (a wait for room in the send buffer), noted on the socket's meter: the server
   * resets a connection whose peer has stopped reading. Not a hot path: only as a call fails.
   */
  private java.net.SocketTimeoutException sendTimedOut(String operation, SocketAddress address) {
    Meter counting = meter;
    if (counting != null) {
      counting.sendTimedOut();
    }
    return Errors.timedOut(operation, address);
  }

  /**
   * The wait itself, until {@code started}, a deadline just started or not yet passed. For a send,
   * what ended the wait decides what follows, as in CPython's timeout-mode calls (a {@code poll}
   * with the time left; ready, the call; timed out, {@code TimeoutError}): readiness, however late
   * this thread ran after it, lets the caller write once more; the deadline, with no readiness,
   * ends the call in its timeout without writing. A write after it would matter: Linux calls a
   * socket writable only once a third (TCP) or a quarter (AF_UNIX) of its buffer is free, and a
   * write after the deadline would take the few bytes freed meanwhile, which no readiness showed,
   * and return their count (or a TLS record's) after the whole timeout. A receive, an accept or a
   * connect tries once more after any wait: a virtual thread's wait (and any on the selector
   * poller) learns of readiness from the poller's thread, which may report it after the deadline
   * although it came before (a 1 ns timeout on a connection accepted and not read yet, whose
   * receive waits at once, timed out with its data there), and what such a try finds beyond that is
   * one byte, one connection or the outcome, as a {@code poll} at the deadline would. Every path
   * waits here: send and sendTo, sendAll, sendFile, TLS's flush and reads, receives, accept and
   * connect.
   */
  private long waitUntil(
      PolledChannel current, int op, long started, String operation, SocketAddress address)
      throws IOException {
    if (Thread.currentThread().isInterrupted()) {
      throw Errors.interrupted(operation, address, null);
    }
    boolean ready = current.await(op, started);
    if (closed) {
      throw Errors.closed(operation, address);
    }
    if (!ready && op == SelectionKey.OP_WRITE && Timeouts.hasPassed(started)) {
      throw sendTimedOut(operation, address);
    }
    return started;
  }

  /** Translates a failure, telling a close by another thread from other errors. */
  private IOException failure(IOException e, String operation, SocketAddress address) {
    if (e instanceof ClosedChannelException
        && !closed
        && (operation.equals("send to") || operation.equals("sendfile to"))) {
      // the output side was shut down (transferTo says so with an AsynchronousCloseException)
      return pendingResetOr(Errors.of(Errno.EPIPE, operation, address), operation, address);
    }
    return pendingResetOr(Errors.translate(e, operation, address), operation, address);
  }

  /** A send's broken pipe, or the reset a blocking send left pending in its place. */
  private IOException pendingResetOr(IOException failure, String operation, SocketAddress address) {
    if (failure instanceof BrokenPipeException && takePendingReset()) {
      return Errors.of(Errno.ECONNRESET, operation, address);
    }
    return failure;
  }

  private int readSome(PolledChannel current, ByteBuffer buffer, long address) throws IOException {
    int n;
    if (buffer.isDirect() || buffer.remaining() <= MAX_TRANSFER) {
      n = readOnce(current, buffer, address);
    } else {
      n = readOnce(current, buffer.slice(buffer.position(), MAX_TRANSFER), UNKNOWN_ADDRESS);
      if (n > 0) {
        buffer.position(buffer.position() + n);
      }
    }
    countReceived(n);
    return n;
  }

  /**
   * One non-blocking read: {@code recv(2)} through {@link StreamCalls} where it is available, else
   * the channel's read. After {@code shutdown(SHUT_RD)} {@code recv(2)} still returns what had
   * arrived, as in Python, where the channel would read end of stream at once.
   */
  private int readOnce(PolledChannel current, ByteBuffer buffer, long address) throws IOException {
    int fd = current.enterCall();
    if (fd < 0) {
      return readChannel(current, buffer);
    }
    MemorySegment state = current.takeState(false);
    try {
      return StreamCalls.recv(fd, buffer, address, state);
    } catch (StreamCalls.Failed e) {
      throw Errors.of(e.errno(), "recv from", peer);
    } finally {
      current.giveState(false, state);
      current.exitCall();
    }
  }

  /**
   * The channel's read (the portable path). Linux reports a reset once, then the connection is
   * closed and {@code recv(2)} gives end of stream, as it does on the epoll path; the JDK's channel
   * remembers the reset and throws it again on every read, so this remembers that it was reported.
   */
  private int readChannel(PolledChannel current, ByteBuffer buffer) throws IOException {
    if (resetReported) {
      return -1;
    }
    try {
      return ((SocketChannel) current.channel()).read(buffer);
    } catch (IOException e) {
      IOException translated = failure(e, "recv from", peer);
      if (translated instanceof ConnectionResetException) {
        resetReported = true;
      }
      throw translated;
    }
  }

  private int writeSome(PolledChannel current, ByteBuffer data, long address) throws IOException {
    int n;
    try {
      n = writeOnce(current, data, address);
    } catch (IOException e) {
      throw failure(e, "send to", peer);
    }
    countSent(n);
    return n;
  }

  /**
   * A stream's send of no bytes, as Python's {@code send(b"")}: Linux's {@code send(2)} still
   * answers with the connection's error ({@code EPIPE} after this side's {@code SHUT_WR} or an
   * AF_UNIX peer's close, a reset not yet reported), where the JDK's channel makes no call. On the
   * portable path the channel's own check is all there is ({@code EPIPE} after {@code SHUT_WR}),
   * and the reset a blocking send left pending, which jsock holds itself.
   */
  private void sendNothing(PolledChannel current) throws IOException {
    int fd = current.enterCall();
    if (fd < 0) {
      writeSome(current, ByteBuffer.allocate(0), UNKNOWN_ADDRESS);
      if (takePendingReset()) {
        throw Errors.of(Errno.ECONNRESET, "send to", peer);
      }
      return;
    }
    try {
      sendEmpty(current, fd, peer);
    } catch (IOException e) {
      throw pendingResetOr(e, "send to", peer);
    }
  }

  /**
   * One non-blocking write: {@code send(2)} through {@link StreamCalls}, else the channel's. {@code
   * send(2)} takes a heap buffer whole, in place, as Linux's takes what the caller gives: a
   * blocking send cut into slices met, between two of them, a reset that {@code send(2)} would have
   * left to the next call (a peer that shut its reading resets the first segment). The channel
   * copies a heap buffer through a temporary direct buffer as large as the request, so it is given
   * {@link #MAX_TRANSFER} at most.
   */
  private int writeOnce(PolledChannel current, ByteBuffer data, long address) throws IOException {
    int fd = current.enterCall();
    if (fd < 0) {
      return writeChannel((SocketChannel) current.channel(), data);
    }
    MemorySegment state = current.takeState(true);
    try {
      return StreamCalls.send(fd, data, address, state);
    } catch (StreamCalls.Failed e) {
      throw Errors.of(e.errno(), "send to", peer);
    } finally {
      current.giveState(true, state);
      current.exitCall();
    }
  }

  private static int writeChannel(SocketChannel channel, ByteBuffer data) throws IOException {
    if (data.isDirect() || data.remaining() <= MAX_TRANSFER) {
      return channel.write(data);
    }
    int n = channel.write(data.slice(data.position(), MAX_TRANSFER));
    data.position(data.position() + n);
    return n;
  }

  // One null check on the hot path for sockets without a meter; no allocation either way.
  private void countReceived(long n) {
    Meter counting = meter;
    if (counting != null && n > 0) {
      counting.received(n);
    }
  }

  private void countSent(long n) {
    Meter counting = meter;
    if (counting != null && n > 0) {
      counting.sent(n);
    }
  }

  /** The bytes of {@code path} as the kernel gets them. */
  private static int unixPathLength(Path path) {
    return path.toString().getBytes(PATH_CHARSET).length;
  }

  /** Whether an AF_UNIX socket may bind or connect to {@code path} (its length allows it). */
  static boolean fitsUnixPath(Path path) {
    return unixPathLength(path) <= MAX_UNIX_PATH;
  }

  private SocketAddress checkAddress(SocketAddress address, String operation)
      throws AddressResolutionException {
    Objects.requireNonNull(address, "address");
    if (family == Family.AF_UNIX) {
      if (!(address instanceof UnixDomainSocketAddress unix)) {
        throw new IllegalArgumentException(
            "address: an AF_UNIX socket takes a UnixDomainSocketAddress, not " + address);
      }
      int length = unixPathLength(unix.getPath());
      if (length > MAX_UNIX_PATH) {
        throw new IllegalArgumentException(
            "address: AF_UNIX path too long ("
                + length
                + " bytes, the JDK allows "
                + MAX_UNIX_PATH
                + "): "
                + unix.getPath());
      }
      return address;
    }
    if (!(address instanceof InetSocketAddress inet)) {
      throw new IllegalArgumentException(
          "address: an " + family + " socket takes an InetSocketAddress, not " + address);
    }
    if (inet.isUnresolved()) {
      return Addresses.resolve(
          inet.getHostString(), inet.getPort(), family == Family.AF_INET6, operation);
    }
    if (family == Family.AF_INET && inet.getAddress() instanceof Inet6Address) {
      throw new IllegalArgumentException(
          "address: an AF_INET socket cannot use the IPv6 address " + Addresses.format(inet));
    }
    return inet;
  }

  private InetSocketAddress inetAddress(String host, int port, String operation)
      throws AddressResolutionException {
    Objects.requireNonNull(host, "host");
    Addresses.checkPort(port);
    if (!family.isInet()) {
      throw new IllegalArgumentException(
          "host and port: an AF_UNIX socket takes a UnixDomainSocketAddress");
    }
    return Addresses.resolve(host, port, family == Family.AF_INET6, operation);
  }

  private static SocketAddress localAddressOf(NetworkChannel channel) {
    try {
      return channel.getLocalAddress();
    } catch (IOException closed) {
      return null;
    }
  }

  /**
   * Whether {@code option} is one a listener holds for the sockets it accepts: a connection's
   * option that a stream socket of this family takes (the JDK's AF_UNIX channels take no TCP
   * options, no {@code SO_KEEPALIVE} and no {@code IP_TOS}, which Linux's accepted sockets inherit
   * as the others).
   */
  private boolean streamOption(SocketOption<?> option) {
    if (option == StandardSocketOptions.SO_LINGER || option == StandardSocketOptions.SO_SNDBUF) {
      return true;
    }
    return family.isInet()
        && (option == StandardSocketOptions.TCP_NODELAY
            || option == StandardSocketOptions.SO_KEEPALIVE
            || option == StandardSocketOptions.IP_TOS
            || option.name().startsWith("TCP_"));
  }

  /**
   * A stream option as a fresh stream socket of this family has it (an AF_UNIX socket's buffers are
   * not TCP's), given {@code value} if not null.
   */
  private <T> T streamValue(SocketOption<T> option, Object value) throws IOException {
    try (SocketChannel probe = SocketChannel.open(family.protocolFamily())) {
      if (value != null) {
        setRaw(probe, option, value);
      }
      return probe.getOption(option);
    }
  }

  /**
   * An option's value as Linux's {@code getsockopt} gives it. On Linux the JDK halves what the
   * kernel reports for the buffer sizes, so that they read back as set; the kernel doubles a size
   * set (socket(7)), and its figure is what Python reports. That figure is even unless a sysctl
   * default is odd, or TCP's autotuning made it so; then this is one less.
   */
  private static <T> T asLinuxReports(SocketOption<T> option, T value) {
    if (LINUX
        && (option == StandardSocketOptions.SO_RCVBUF || option == StandardSocketOptions.SO_SNDBUF)
        && value instanceof Integer halved) {
      return option.type().cast(halved * 2);
    }
    return value;
  }

  private IllegalArgumentException notApplicable(SocketOption<?> option) {
    return new IllegalArgumentException(
        "option " + option.name() + " does not apply to an " + family + " " + kind + " socket");
  }

  @SuppressWarnings("unchecked")
  private static void setRaw(NetworkChannel channel, SocketOption<?> option, Object value)
      throws IOException {
    channel.setOption((SocketOption<Object>) option, value);
  }

  // ---------------------------------------------------------------- TLS

  /**
   * Python's fallback for {@code sendfile} on an SSL socket: the file goes through the TLS layer in
   * chunks, since the kernel cannot encrypt it on the way.
   */
  private long sendFileOverTls(
      FileChannel file, long offset, long count, long deadline, boolean nonBlocking)
      throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(16 * 1024); // one per call: not a hot path
    long sent = 0;
    try {
      while (sent < count) {
        if (Thread.currentThread().isInterrupted()) {
          throw Errors.interrupted(
              "sendfile to", peer, null); // the JDK would close the file at its next read
        }
        chunk.clear().limit((int) Math.min(chunk.capacity(), count - sent));
        if (file.read(chunk, offset + sent) <= 0) {
          break;
        }
        chunk.flip();
        try {
          tls.write(chunk, deadline, true, nonBlocking, "sendfile to");
        } catch (WouldBlockException e) {
          if (!nonBlocking || sent + chunk.position() == 0) {
            throw e;
          }
        } finally {
          // The bytes whose records went out whole; none if write failed, which leaves the chunk
          // where it was and counts what it took, so the next call reads those bytes again from
          // the file's position, and write skips them as sent.
          sent += chunk.position();
        }
        if (chunk.hasRemaining()) {
          break; // non-blocking and the kernel is full: what went is the answer, as without TLS
        }
      }
    } catch (ClosedByInterruptException e) {
      throw Errors.interrupted("sendfile to", peer, e); // during a read: the file closed
    } catch (NonReadableChannelException e) {
      throw notReadable(e);
    } finally {
      movePosition(file, offset, sent);
    }
    return sent;
  }

  /** The TLS layer's view of this socket's channel: raw reads, writes and waits. */
  private final class TlsWire implements TlsEngine.Wire {
    @Override
    public int read(ByteBuffer dst) throws IOException {
      int n;
      try {
        n = readOnce(polled, dst, UNKNOWN_ADDRESS);
      } catch (IOException e) {
        throw failure(e, "recv from", peer);
      }
      countReceived(n); // bytes on the wire, as writeSome counts them on the way out
      return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return writeSome(polled, src, UNKNOWN_ADDRESS);
    }

    @Override
    public void await(int op, long deadline, boolean nonBlocking, String operation)
        throws IOException {
      // the TLS layer starts its deadline before it waits, and reads the mode with it
      Socket.this.await(polled, op, deadline, nonBlocking, operation, peer);
    }

    @Override
    public void awaitUntil(int op, long deadline, String operation) throws IOException {
      if (Timeouts.hasPassed(deadline)) {
        throw timedOut(op, operation, peer);
      }
      if (Thread.currentThread().isInterrupted()) {
        throw Errors.interrupted(operation, peer, null);
      }
      // as waitUntil decides: a handshake or close_notify whose wait for room reached its deadline
      // with no readiness ends in its timeout, not in one more write (CPython's do_handshake and
      // unwrap raise TimeoutError once their poll times out); a read tries once more
      if (!polled.await(op, deadline)
          && op == SelectionKey.OP_WRITE
          && Timeouts.hasPassed(deadline)) {
        throw Socket.this.sendTimedOut(operation, peer);
      }
    }

    @Override
    public java.net.SocketTimeoutException sendTimedOut(String operation) {
      return Socket.this.sendTimedOut(operation, peer);
    }

    @Override
    public SocketAddress peer() {
      return peer;
    }
  }

  /** What io.jsock.tls and io.jsock.server may do with a socket; see {@link SocketAccess}. */
  private static final class Access implements SocketAccess {
    @Override
    public Socket attachTls(Socket plain, TlsEngine engine) throws IOException {
      if (plain.kind != SocketKind.SOCK_STREAM) {
        throw new IllegalArgumentException("TLS needs a SOCK_STREAM socket, not " + plain.kind);
      }
      // A connect in progress (non-blocking, or after a timeout) completes first, as a send
      // completes it: a selector reports it done before the JDK's channel knows (see README).
      PolledChannel pending = plain.open("tls wrap", plain.peer);
      if (pending.channel() instanceof SocketChannel stream && stream.isConnectionPending()) {
        plain.awaitConnected(pending, "connect to"); // its failure is the connect's
      }
      synchronized (plain.stateLock) {
        PolledChannel current = plain.connected("tls wrap");
        if (plain.tls != null) {
          throw new IllegalArgumentException("the socket already speaks TLS");
        }
        Socket wrapped = new Socket(plain.family, plain.kind, current, plain.timeoutNanos, engine);
        wrapped.sendTimeoutNanos = plain.sendTimeoutNanos;
        wrapped.meter = plain.meter; // the count goes on with the channel: bytes on the wire
        wrapped.peer = plain.peer;
        wrapped.unnamed = plain.unnamed;
        wrapped.boundAddress = plain.boundAddress;
        wrapped.reboundName = plain.reboundName;
        wrapped.boundFileIdentity = plain.boundFileIdentity;
        wrapped.options = plain.options.isEmpty() ? Map.of() : new LinkedHashMap<>(plain.options);
        wrapped.lingerInherited = plain.lingerInherited;
        engine.bind(wrapped.new TlsWire());
        plain.detachedTo = wrapped;
        plain.closed = true; // and its close() leaves the channel to the new socket
        // with the selectors that hold the channel for the plain socket until their next select
        wrapped.selectors = plain.selectors;
        plain.selectors = List.of();
        return wrapped;
      }
    }

    @Override
    public void attachMeter(Socket socket, Meter meter) {
      socket.meter = Objects.requireNonNull(meter, "meter");
    }

    @Override
    public boolean hasUnreadData(Socket socket) {
      PolledChannel polled = socket.polled;
      if (!(polled.channel() instanceof SocketChannel)) {
        return false;
      }
      try {
        return socket.unreadInKernel(polled, "ioctl FIONREAD") > 0;
      } catch (IOException | RuntimeException e) {
        return false; // closed meanwhile: nothing a reader could still take
      }
    }

    @Override
    public void setSendTimeout(Socket socket, Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive: " + timeout);
      }
      if (socket.timeoutNanos == Timeouts.NON_BLOCKING) {
        throw new IllegalStateException("a non-blocking socket's sends never wait");
      }
      socket.sendTimeoutNanos = Timeouts.toNanos(timeout);
    }

    @Override
    public Duration sendTimeout(Socket socket) {
      return Timeouts.toDuration(socket.sendTimeoutNanos);
    }

    @Override
    public SocketAddress peer(Socket socket) {
      return socket.peer;
    }

    @Override
    public Socket owner(Socket socket) {
      Socket owner = socket.detachedTo;
      return owner != null ? owner : socket;
    }

    @Override
    public java.util.Optional<TlsEngine> tls(Socket socket) {
      return java.util.Optional.ofNullable(socket.tls);
    }

    @Override
    public void handshake(Socket socket, long deadline) throws IOException {
      long own = Timeouts.deadline(socket.timeoutNanos);
      long earlier = own == Long.MAX_VALUE || own - deadline >= 0 ? deadline : own;
      try {
        socket.tls.handshake(earlier);
      } catch (IOException | RuntimeException e) {
        if (e instanceof java.net.SocketTimeoutException) {
          // nothing goes after the handshake's deadline, at the close either: what the engine
          // still holds is a flight that no readiness let out in time (CPython's do_handshake
          // raises TimeoutError with it unsent, and its close sends no close_notify)
          socket.tls.abort();
        }
        try {
          socket.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      }
    }
  }

  private static void closeQuietly(PolledChannel old) {
    try {
      old.channel().close();
    } catch (IOException ignored) {
      // the replacement already holds the address; nothing depends on the old channel
    } finally {
      old.wakeAll();
    }
  }
}
