package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.jsock.Accepted;
import io.jsock.AddrInfo;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;

/**
 * The two programs of the tutorial (the seed), each end's exchange written once for {@code jsock
 * server}, {@code jsock client} and {@code jsock demo}.
 */
final class Seed {
  static final String HOST = "localhost";
  static final String PORT = "12345";
  static final String CLIENT_MESSAGE = "Hello, server! This is the client.";
  static final String SERVER_REPLY = "Hello, client! This is the server.";

  /** As the seed's {@code recv(1024)}. */
  private static final int BUFSIZE = 1024;

  private Seed() {}

  /**
   * The server's socket, bound and listening, as the seed creates it (plus SO_REUSEADDR, so that a
   * restart does not trip over the last run's connections in TIME_WAIT).
   */
  static Socket listen(String host, int port, int backlog) throws IOException {
    AddrInfo info = Sockets.getAddrInfo(host, port, null, SocketKind.SOCK_STREAM).getFirst();
    Socket server = Socket.create(info.family(), SocketKind.SOCK_STREAM);
    try {
      server.setSockOpt(StandardSocketOptions.SO_REUSEADDR, true);
      server.bind(info.address());
      server.listen(backlog);
      return server;
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
  }

  /** The banner the seed prints: {@code Server is listening on localhost:12345}. */
  static String banner(String host, Socket server) throws IOException {
    int port = ((InetSocketAddress) server.getSockName()).getPort();
    return "Server is listening on " + host + ":" + port;
  }

  /** The server's side of one exchange: receive, print, reply, close. */
  static void serve(Accepted accepted, String reply, Lines out) throws IOException {
    try (Socket conn = accepted.conn()) {
      byte[] data = conn.recv(BUFSIZE);
      out.line("Received: " + decode(data, accepted.address()));
      conn.sendAll(reply.getBytes(UTF_8));
    }
  }

  /** The client's side: connect, send, receive, print, close. */
  static void exchange(String host, int port, String message, Lines out) throws IOException {
    try (Socket client = Sockets.createConnection(InetSocketAddress.createUnresolved(host, port))) {
      SocketAddress server = client.getPeerName();
      client.sendAll(message.getBytes(UTF_8));
      byte[] data = client.recv(BUFSIZE);
      out.line("Received: " + decode(data, server));
    }
  }

  /**
   * The seed's {@code data.decode()}: strict UTF-8. Bytes that are not UTF-8 (or a character cut at
   * the 1,024th byte) fail as Python's {@code UnicodeDecodeError} does, in its words, rather than
   * being printed as U+FFFD: the seed's program stops there, printing nothing and, on the server,
   * replying nothing.
   */
  static String decode(byte[] data, SocketAddress from) throws IOException {
    ByteBuffer in = ByteBuffer.wrap(data);
    CharBuffer chars = CharBuffer.allocate(data.length);
    CoderResult result =
        UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(in, chars, true);
    if (!result.isError()) {
      return chars.flip().toString();
    }
    throw new IOException(
        "received from "
            + Diagnostics.where(from)
            + ": 'utf-8' codec can't decode "
            + undecodable(data, in.position()));
  }

  /**
   * CPython's words for the undecodable sequence starting at {@code start}: the bytes it spans (a
   * valid start and the continuation bytes that fit it) and why it stops there. The JDK's decoder
   * finds the same start, but counts some sequences otherwise (a surrogate's three bytes as one).
   */
  private static String undecodable(byte[] data, int start) {
    int first = data[start] & 0xff;
    if (first < 0xc2 || first > 0xf4) {
      return String.format("byte 0x%02x in position %d: invalid start byte", first, start);
    }
    int length = first < 0xe0 ? 2 : first < 0xf0 ? 3 : 4;
    // the second byte's range excludes overlong forms, surrogates and code points past U+10FFFF
    int low = first == 0xe0 ? 0xa0 : first == 0xf0 ? 0x90 : 0x80;
    int high = first == 0xed ? 0x9f : first == 0xf4 ? 0x8f : 0xbf;
    int fit = 1;
    while (fit < length && start + fit < data.length) {
      int next = data[start + fit] & 0xff;
      if (next < (fit == 1 ? low : 0x80) || next > (fit == 1 ? high : 0xbf)) {
        break;
      }
      fit++;
    }
    String bytes =
        fit == 1
            ? String.format("byte 0x%02x in position %d", first, start)
            : "bytes in position " + start + "-" + (start + fit - 1);
    return bytes
        + (start + fit == data.length ? ": unexpected end of data" : ": invalid continuation byte");
  }
}
