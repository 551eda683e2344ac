package io.jsock.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The client's side of a SOCKS4 CONNECT, and of SOCKS4a's when the proxy is to resolve the name:
 * the address 0.0.0.1 then says that the name follows the user id. SOCKS4 carries IPv4 only, and
 * its one "rejected or failed" code cannot tell a refusal from other failures: exit code 1.
 */
final class Socks4Handshake {
  private static final int VERSION = 4;
  private static final int CONNECT = 1;
  private static final int GRANTED = 90;

  private Socks4Handshake() {}

  /** Opens the tunnel to {@code target} (an IPv4 address or a name); then the target's stream. */
  static void open(ProxyChannel channel, ProxyTarget target, Optional<ProxyAuth> auth)
      throws IOException {
    ByteArrayOutputStream request = new ByteArrayOutputStream();
    request.writeBytes(new byte[] {VERSION, CONNECT});
    request.write(target.port() >> 8);
    request.write(target.port() & 0xFF);
    request.writeBytes(
        target.address().map(a -> a.getAddress()).orElse(new byte[] {0, 0, 0, 1})); // 4a: a name
    request.writeBytes(auth.map(ProxyAuth::user).orElse("").getBytes(StandardCharsets.UTF_8));
    request.write(0);
    if (target.address().isEmpty()) {
      request.writeBytes(target.host().getBytes(StandardCharsets.UTF_8));
      request.write(0);
    }
    channel.send(request.toByteArray(), "SOCKS4 reply");
    byte[] reply = channel.recvExactly(8, "SOCKS4 reply");
    if (reply[0] != 0 && reply[0] != VERSION) { // 0 by the protocol; some proxies echo the 4
      throw channel.failed(
          "not a SOCKS4 proxy: its reply begins with 0x%02X, not 0x00".formatted(reply[0] & 0xFF));
    }
    int code = reply[1] & 0xFF;
    if (code != GRANTED) {
      throw channel.failed(
          switch (code) {
            case 91 -> "request rejected or failed (SOCKS4 code 91)";
            case 92 -> "rejected: the proxy cannot reach an identd on this host (SOCKS4 code 92)";
            case 93 ->
                "rejected: identd reports another user than the %s user id (SOCKS4 code 93)"
                    .formatted(auth.map(ProxyAuth::source).orElse("empty"));
            default -> "reply code %d, none of SOCKS4's".formatted(code);
          });
    }
  }
}
