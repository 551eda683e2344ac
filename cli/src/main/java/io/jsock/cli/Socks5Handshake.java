package io.jsock.cli;

import io.jsock.AddressResolutionException;
import io.jsock.ConnectionRefusedException;
import io.jsock.ConnectionTimedOutException;
import io.jsock.Errno;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The client's side of a SOCKS5 CONNECT (RFC 1928), with no authentication or RFC 1929's user name
 * and password. The proxy's reply codes become jsock's exit codes where one fits: connection
 * refused 3, TTL expired (how proxies say that their connect timed out) 4, host unreachable for a
 * name the proxy was to resolve 6; the others are exit code 1 with the code's meaning.
 */
final class Socks5Handshake {
  private static final int VERSION = 5;
  private static final int NO_AUTHENTICATION = 0;
  private static final int USER_PASSWORD = 2;
  private static final int NO_ACCEPTABLE_METHOD = 0xFF;
  private static final int CONNECT = 1;
  private static final int IPV4 = 1;
  private static final int DOMAIN_NAME = 3;
  private static final int IPV6 = 4;

  private Socks5Handshake() {}

  /** Opens the tunnel to {@code target}; the channel is then the target's stream. */
  static void open(ProxyChannel channel, ProxyTarget target, Optional<ProxyAuth> auth)
      throws IOException {
    channel.send(
        auth.isPresent()
            ? new byte[] {VERSION, 2, NO_AUTHENTICATION, USER_PASSWORD}
            : new byte[] {VERSION, 1, NO_AUTHENTICATION},
        "SOCKS5 method choice");
    byte[] choice = channel.recvExactly(2, "SOCKS5 method choice");
    checkVersion(channel, choice[0]);
    int method = choice[1] & 0xFF;
    if (method == USER_PASSWORD && auth.isPresent()) {
      authenticate(channel, auth.get());
    } else if (method == USER_PASSWORD) {
      throw channel.failed(
          "the proxy asks for a user name and password (give them with --proxy-auth USER:PASS)");
    } else if (method == NO_ACCEPTABLE_METHOD) {
      throw channel.failed(
          "the proxy accepts none of the authentication methods offered ("
              + (auth.isPresent() ? "none, user name and password" : "none")
              + ")");
    } else if (method != NO_AUTHENTICATION) {
      throw channel.failed(
          "the proxy chose authentication method 0x%02X, which was not offered".formatted(method));
    }
    channel.send(request(target), "SOCKS5 reply");
    byte[] head = channel.recvExactly(4, "SOCKS5 reply");
    checkVersion(channel, head[0]);
    int reply = head[1] & 0xFF;
    if (reply != 0) {
      throw refusal(channel, target, reply);
    }
    int boundAddressLength =
        switch (head[3]) {
          case IPV4 -> 4;
          case IPV6 -> 16;
          case DOMAIN_NAME -> channel.recvExactly(1, "SOCKS5 reply")[0] & 0xFF;
          default ->
              throw channel.failed(
                  "the proxy's reply has address type 0x%02X, none of RFC 1928's"
                      .formatted(head[3]));
        };
    channel.recvExactly(boundAddressLength + 2, "SOCKS5 reply"); // BND.ADDR, BND.PORT: unused
  }

  /** RFC 1929: version 1, the user name and the password, each after its length. */
  private static void authenticate(ProxyChannel channel, ProxyAuth auth) throws IOException {
    byte[] user = auth.user().getBytes(StandardCharsets.UTF_8);
    byte[] password = auth.password().orElse("").getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream message = new ByteArrayOutputStream();
    message.write(1);
    message.write(user.length);
    message.writeBytes(user);
    message.write(password.length);
    message.writeBytes(password);
    channel.send(message.toByteArray(), "SOCKS5 authentication reply");
    byte[] status = channel.recvExactly(2, "SOCKS5 authentication reply");
    if (status[1] != 0) {
      throw channel.failed(
          "the proxy refused the user name and password of %s (RFC 1929 status 0x%02X)"
              .formatted(auth.source(), status[1] & 0xFF));
    }
  }

  /** VER CMD RSV ATYP DST.ADDR DST.PORT. */
  private static byte[] request(ProxyTarget target) {
    ByteArrayOutputStream request = new ByteArrayOutputStream();
    request.writeBytes(new byte[] {VERSION, CONNECT, 0});
    if (target.address().isPresent()) {
      InetAddress address = target.address().get();
      request.write(address instanceof Inet4Address ? IPV4 : IPV6);
      request.writeBytes(address.getAddress());
    } else {
      byte[] name = target.host().getBytes(StandardCharsets.UTF_8);
      request.write(DOMAIN_NAME);
      request.write(name.length); // checked to be at most 255 before connecting
      request.writeBytes(name);
    }
    request.write(target.port() >> 8);
    request.write(target.port() & 0xFF);
    return request.toByteArray();
  }

  /** The exception for the proxy's reply code {@code reply}, of the kind its exit code is for. */
  private static IOException refusal(ProxyChannel channel, ProxyTarget target, int reply) {
    return switch (reply) {
      case 1 -> channel.failed("general SOCKS server failure");
      case 2 -> channel.failed("connection not allowed by ruleset");
      case 3 -> channel.failed("network unreachable");
      case 4 ->
          target.address().isPresent()
              ? channel.failed("host unreachable")
              : unresolved(channel, target);
      case 5 ->
          new ConnectionRefusedException(
              channel.message("connection refused"), target.unresolved());
      case 6 ->
          new ConnectionTimedOutException(
              channel.message("TTL expired (as SOCKS5 proxies say that their connect timed out)"),
              target.unresolved());
      case 7 -> channel.failed("command not supported");
      case 8 -> channel.failed("address type not supported");
      default -> channel.failed("reply code 0x%02X, none of RFC 1928's".formatted(reply));
    };
  }

  /**
   * Host unreachable for a name the proxy was to resolve: how SOCKS5 proxies say that it did not
   * resolve (RFC 1928 has no code of its own for it), so an unknown host, exit code 6.
   */
  private static AddressResolutionException unresolved(ProxyChannel channel, ProxyTarget target) {
    return new AddressResolutionException(
        channel.message(
            "host unreachable (as SOCKS5 proxies say that they could not resolve the name)"),
        Errno.EAI_NONAME,
        target.unresolved());
  }

  private static void checkVersion(ProxyChannel channel, byte version) throws ProxyException {
    if (version != VERSION) {
      throw channel.failed(
          "not a SOCKS5 proxy: its reply has version 0x%02X, not 0x05".formatted(version & 0xFF));
    }
  }
}
