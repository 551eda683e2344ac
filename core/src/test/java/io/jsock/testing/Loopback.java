package io.jsock.testing;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Endpoints on the loopback interface for tests: the loopback address of a family, a connected pair
 * of jsock sockets, an address that refuses connections, and closing the sockets a test opened.
 *
 * <p>Only the literals {@code 127.0.0.1} and {@code ::1} are used, never a name, so no test that
 * uses these tools resolves anything.
 *
 * <pre>{@code
 * try (Loopback.Pair pair = Loopback.pair(AF_INET6)) {
 *   pair.client().sendAll(data);
 *   byte[] got = pair.server().recv(1024);
 * }
 * }</pre>
 */
public final class Loopback {
  private static final AtomicInteger UNIX_NAMES = new AtomicInteger();

  private Loopback() {}

  /**
   * The loopback address of an IP family: {@code 127.0.0.1} or {@code ::1}.
   *
   * @throws IllegalArgumentException for AF_UNIX
   */
  public static InetAddress ip(Family family) {
    byte[] raw =
        switch (family) {
          case AF_INET -> new byte[] {127, 0, 0, 1};
          case AF_INET6 -> new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
          case AF_UNIX -> throw new IllegalArgumentException("AF_UNIX has no loopback IP address");
        };
    try {
      return InetAddress.getByAddress(raw);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * A fresh address to bind a test server to: the loopback address with port 0 for IP families, or
   * a new path in {@code dir} for AF_UNIX ({@code dir} may be null for IP families).
   */
  public static SocketAddress bindAddress(Family family, Path dir) {
    if (family.isInet()) {
      return new InetSocketAddress(ip(family), 0);
    }
    if (dir == null) {
      throw new IllegalArgumentException("AF_UNIX needs a directory for the socket file");
    }
    return UnixDomainSocketAddress.of(dir.resolve("s" + UNIX_NAMES.incrementAndGet() + ".sock"));
  }

  /** A connected pair of an IP family on loopback; see {@link #pair(Family, Path)}. */
  public static Pair pair(Family family) throws IOException {
    return pair(family, null);
  }

  /**
   * A connected pair of stream sockets: a client, and the server side as a listener accepted it.
   * The listener is closed again; both sockets start in the default timeout mode.
   *
   * @param dir where the AF_UNIX socket file goes (a JUnit {@code @TempDir}); ignored for IP
   */
  public static Pair pair(Family family, Path dir) throws IOException {
    SocketAddress address = bindAddress(family, dir);
    try (Socket listener = Socket.create(family, SocketKind.SOCK_STREAM)) {
      listener.bind(address);
      listener.listen(1);
      Socket client = Socket.create(family, SocketKind.SOCK_STREAM);
      try {
        client.connect(listener.getSockName()); // completes in the backlog, before accept()
        return new Pair(client, listener.accept().conn());
      } catch (IOException | RuntimeException e) {
        client.close();
        throw e;
      }
    }
  }

  /**
   * An IP address on loopback that refuses connections, held until {@link Refusing#close()}: a
   * socket bound to an ephemeral port that never listens, so a connection gets a reset and no other
   * socket can take the port meanwhile (the holder does not set {@code SO_REUSEADDR}).
   *
   * <p>It uses the JDK's own channel rather than jsock, so that it does not depend on the code
   * under test.
   */
  public static Refusing refusingAddress(Family family) throws IOException {
    SocketChannel holder =
        SocketChannel.open(
            family == Family.AF_INET6 ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
    try {
      holder.bind(new InetSocketAddress(ip(family), 0));
      return new Refusing((InetSocketAddress) holder.getLocalAddress(), holder);
    } catch (IOException | RuntimeException e) {
      holder.close();
      throw e;
    }
  }

  /**
   * A loopback port with nothing of {@code kind} bound to it, below the kernel's ephemeral range
   * ({@code /proc/sys/net/ipv4/ip_local_port_range}): no bind to port 0, in this process or any
   * other, is given it, so it stays unused until a program asks for it by number. A UDP datagram
   * sent there gets an ICMP port unreachable; a port taken from a socket bound to port 0 and closed
   * again may come back to the next socket bound to port 0, which then talks to itself.
   */
  public static int unusedPort(Family family, SocketKind kind) throws IOException {
    int below = ephemeralLowest();
    for (int attempt = 0; attempt < 100; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(Math.max(1024, below - 8192), below);
      StandardProtocolFamily ip =
          family == Family.AF_INET6 ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
      try (NetworkChannel probe =
          kind == SocketKind.SOCK_DGRAM ? DatagramChannel.open(ip) : SocketChannel.open(ip)) {
        probe.bind(new InetSocketAddress(ip(family), port));
        return port;
      } catch (java.net.BindException taken) {
        // someone's port: try another
      }
    }
    throw new IOException("no unused port below " + below + " after 100 tries");
  }

  private static int ephemeralLowest() throws IOException {
    // readString would trust the size /proc reports, and read "3" of "32768\t60999"
    String range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0);
    return Integer.parseInt(range.trim().split("\\s+")[0]);
  }

  /**
   * Two connected sockets; closing the pair closes both.
   *
   * @param client the side that connected
   * @param server the side that {@code accept()} returned
   */
  public record Pair(Socket client, Socket server) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      try (client;
          server) {
        // both closed, even if one fails
      }
    }
  }

  /** An address that refuses connections for as long as this is open. */
  public static final class Refusing implements AutoCloseable {
    private final InetSocketAddress address;
    private final SocketChannel holder;

    private Refusing(InetSocketAddress address, SocketChannel holder) {
      this.address = address;
      this.holder = holder;
    }

    /** The refusing address: a loopback IP and a port that nothing listens on. */
    public InetSocketAddress address() {
      return address;
    }

    /** The refusing port. */
    public int port() {
      return address.getPort();
    }

    /** Releases the port. */
    @Override
    public void close() throws IOException {
      holder.close();
    }
  }

  /**
   * Receives until {@code size} bytes have come or the stream has ended, as Python's {@code recv(n,
   * MSG_WAITALL)}: fewer bytes back means the peer ended the stream first, which the caller's
   * assertion on the bytes then shows.
   */
  public static byte[] recvExactly(Socket socket, int size) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(size);
    while (buffer.hasRemaining() && socket.recvInto(buffer) > 0) {
      // recvInto advances the buffer; 0 is the end of the stream
    }
    return Arrays.copyOf(buffer.array(), buffer.position());
  }

  /** Closes each of {@code sockets}, for a test that opened several outside try-with-resources. */
  public static void closeAll(List<Socket> sockets) throws IOException {
    for (Socket socket : sockets) {
      socket.close();
    }
  }
}
