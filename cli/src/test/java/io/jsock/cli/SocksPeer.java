package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.jsock.Shutdown;
import io.jsock.Socket;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A SOCKS4/4a or SOCKS5 proxy of one connection on 127.0.0.1, for the tests: it notes what the
 * client asked for (the target as sent, the credentials), then either answers with a failure code
 * and closes, or connects to the test's target on 127.0.0.1 (whatever was asked) and relays both
 * ways, passing each end of stream on as a half-close.
 */
final class SocksPeer implements AutoCloseable {
  /**
   * What the client sent.
   *
   * @param host the target as sent: an address's text, or the name (SOCKS5 type 3, SOCKS4a)
   * @param isName whether the target came as a name
   * @param port the target's port
   * @param user the user name or SOCKS4 user id ("" for none)
   * @param password the SOCKS5 password ("" for none)
   */
  record Request(String host, boolean isName, int port, String user, String password) {}

  private final Socket listener;
  private final CompletableFuture<Request> request = new CompletableFuture<>();
  private final Thread thread;

  private SocksPeer(Socket listener, Handler handler) {
    this.listener = listener;
    this.thread = Thread.ofVirtual().unstarted(() -> serve(handler));
  }

  private SocksPeer started() {
    thread.start();
    return this;
  }

  /**
   * A SOCKS5 proxy that asks for {@code user:password} if given (and refuses others), and answers
   * CONNECT with {@code reply} (0: succeeded, then relays to {@code targetPort}).
   */
  static SocksPeer socks5(int targetPort, Optional<String> credentials, int reply)
      throws IOException {
    return new SocksPeer(
            listener(), (conn, request) -> socks5(conn, request, credentials, reply, targetPort))
        .started();
  }

  /** A SOCKS4 proxy that answers with {@code reply} (90: granted, then relays to targetPort). */
  static SocksPeer socks4(int targetPort, int reply) throws IOException {
    return socks4(targetPort, reply, 0);
  }

  /**
   * A SOCKS4 proxy whose reply begins with {@code version}: 0 as the protocol says, or 4 as some
   * proxies answer.
   */
  static SocksPeer socks4(int targetPort, int reply, int version) throws IOException {
    return new SocksPeer(
            listener(), (conn, request) -> socks4(conn, request, reply, version, targetPort))
        .started();
  }

  int port() throws IOException {
    return ((InetSocketAddress) listener.getSockName()).getPort();
  }

  /** What the client asked for (a minute at most). */
  Request request() throws Exception {
    return request.get(60, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    listener.close();
    thread.join(60_000);
  }

  @FunctionalInterface
  private interface Handler {
    void handle(Socket conn, CompletableFuture<Request> request) throws IOException;
  }

  private static Socket listener() throws IOException {
    Socket listener = Socket.create();
    listener.bind("127.0.0.1", 0);
    listener.listen(1);
    return listener;
  }

  private void serve(Handler handler) {
    try (Socket conn = listener.accept().conn()) {
      handler.handle(conn, request);
    } catch (IOException | RuntimeException e) {
      request.completeExceptionally(e);
    }
  }

  private static void socks5(
      Socket conn,
      CompletableFuture<Request> request,
      Optional<String> credentials,
      int reply,
      int targetPort)
      throws IOException {
    DataInputStream in = new DataInputStream(conn.getInputStream());
    OutputStream out = conn.getOutputStream();
    in.readUnsignedByte(); // 5
    byte[] methods = in.readNBytes(in.readUnsignedByte());
    String user = "";
    String password = "";
    if (credentials.isPresent()) {
      if (new String(methods, UTF_8).indexOf(2) < 0) {
        out.write(new byte[] {5, (byte) 0xFF});
        request.complete(new Request("", false, 0, "", ""));
        return;
      }
      out.write(new byte[] {5, 2});
      in.readUnsignedByte(); // 1
      user = new String(in.readNBytes(in.readUnsignedByte()), UTF_8);
      password = new String(in.readNBytes(in.readUnsignedByte()), UTF_8);
      boolean accepted = credentials.get().equals(user + ":" + password);
      out.write(new byte[] {1, (byte) (accepted ? 0 : 1)});
      if (!accepted) {
        request.complete(new Request("", false, 0, user, password));
        return;
      }
    } else {
      out.write(new byte[] {5, 0});
    }
    in.readNBytes(3); // 5 1 0
    int type = in.readUnsignedByte();
    String host =
        switch (type) {
          case 1 -> InetAddress.getByAddress(in.readNBytes(4)).getHostAddress();
          case 4 -> InetAddress.getByAddress(in.readNBytes(16)).getHostAddress();
          default -> new String(in.readNBytes(in.readUnsignedByte()), UTF_8);
        };
    int port = in.readUnsignedShort();
    request.complete(new Request(host, type == 3, port, user, password));
    out.write(new byte[] {5, (byte) reply, 0, 1, 127, 0, 0, 1, 0, 0});
    if (reply == 0) {
      relay(conn, targetPort);
    }
  }

  private static void socks4(
      Socket conn, CompletableFuture<Request> request, int reply, int version, int targetPort)
      throws IOException {
    DataInputStream in = new DataInputStream(conn.getInputStream());
    in.readNBytes(2); // 4 1
    int port = in.readUnsignedShort();
    byte[] address = in.readNBytes(4);
    String user = zeroEnded(in);
    boolean isName = address[0] == 0 && address[1] == 0 && address[2] == 0 && address[3] != 0;
    String host = isName ? zeroEnded(in) : InetAddress.getByAddress(address).getHostAddress();
    request.complete(new Request(host, isName, port, user, ""));
    conn.getOutputStream().write(new byte[] {(byte) version, (byte) reply, 0, 0, 0, 0, 0, 0});
    if (reply == 90) {
      relay(conn, targetPort);
    }
  }

  private static String zeroEnded(InputStream in) throws IOException {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    for (int b = in.read(); b > 0; b = in.read()) {
      text.write(b);
    }
    return text.toString(UTF_8);
  }

  /** Relays between {@code conn} and the target until both ways have ended. */
  private static void relay(Socket conn, int targetPort) throws IOException {
    try (Socket target = Socket.create()) {
      target.connect(new InetSocketAddress("127.0.0.1", targetPort));
      Thread up = Thread.ofVirtual().start(() -> copy(conn, target));
      copy(target, conn);
      try {
        up.join(60_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void copy(Socket from, Socket to) {
    try {
      byte[] chunk;
      while ((chunk = from.recv(65536)).length > 0) {
        to.sendAll(chunk);
      }
      to.shutdown(Shutdown.SHUT_WR);
    } catch (IOException e) {
      // the other side went: the relay ends
    }
  }
}
