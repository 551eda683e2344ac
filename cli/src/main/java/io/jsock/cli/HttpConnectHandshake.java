package io.jsock.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The client's side of HTTP's CONNECT (RFC 9110 section 9.3.6), with Basic credentials when {@code
 * --proxy-auth} gives them. The status line is parsed strictly, the header fields read up to the
 * blank line within {@link #MAX_HEADER_BYTES} (interim 1xx responses before the final one included,
 * and skipped); any 2xx opens the tunnel, and what the proxy sent after the blank line is the
 * target's first bytes, left in the socket for stdout (or TLS).
 */
final class HttpConnectHandshake {
  /** The most a reply's status line and header fields may take, line ends included. */
  static final int MAX_HEADER_BYTES = 16 * 1024;

  // RFC 9112 section 4: HTTP-version SP 3DIGIT SP [ reason-phrase ]; the SP before an empty
  // reason is often left out, and taken
  private static final Pattern STATUS_LINE =
      Pattern.compile("HTTP/1\\.[01] ([1-5][0-9][0-9])(?: [\\t\\x20-\\x7E\\x80-\\xFF]*)?");

  private HttpConnectHandshake() {}

  /** Opens the tunnel to {@code target}; the channel is then the target's stream. */
  static void open(ProxyChannel channel, ProxyTarget target, Optional<ProxyAuth> auth)
      throws IOException {
    channel.send(request(target, auth), "HTTP reply");
    String tooLong = "its HTTP reply header is longer than " + MAX_HEADER_BYTES + " bytes";
    int left = MAX_HEADER_BYTES;
    String statusLine;
    int code;
    do { // RFC 9110 section 15.2: 1xx responses (but 101) may come before the final one
      statusLine = channel.recvLine(left, "HTTP status line", tooLong);
      Matcher status = STATUS_LINE.matcher(statusLine);
      if (!status.matches()) {
        throw channel.failed("not an HTTP status line: '" + printable(statusLine) + "'");
      }
      code = Integer.parseInt(status.group(1));
      left = skipHeaderFields(channel, left - statusLine.length() - 2, tooLong);
    } while (code / 100 == 1 && code != 101);
    if (code == 407) {
      throw channel.failed(
          (auth.isPresent()
                  ? "the proxy refused the credentials of " + auth.get().source()
                  : "the proxy asks for credentials (give them with --proxy-auth USER:PASS)")
              + ": "
              + printable(statusLine));
    }
    if (code / 100 != 2) {
      throw channel.failed("the proxy answered " + printable(statusLine));
    }
  }

  /**
   * Reads header fields up to the blank line, none of them needed (a 2xx CONNECT's Content-Length
   * or Transfer-Encoding is ignored, as RFC 9110 says); returns what is left of the {@code left}
   * bytes the header may still take.
   */
  private static int skipHeaderFields(ProxyChannel channel, int left, String tooLong)
      throws IOException {
    while (true) {
      if (left <= 0) {
        throw channel.failed(tooLong);
      }
      String field = channel.recvLine(left, "HTTP reply header", tooLong);
      left -= field.length() + 2;
      if (field.isEmpty()) {
        return left;
      }
    }
  }

  /** {@code CONNECT host:port HTTP/1.1}, its Host field, and Basic credentials if any. */
  private static byte[] request(ProxyTarget target, Optional<ProxyAuth> auth) {
    String authority = target.authority();
    StringBuilder request =
        new StringBuilder("CONNECT ")
            .append(authority)
            .append(" HTTP/1.1\r\nHost: ")
            .append(authority)
            .append("\r\n");
    auth.ifPresent(
        credentials ->
            request
                .append("Proxy-Authorization: Basic ")
                .append(
                    Base64.getEncoder()
                        .encodeToString(
                            (credentials.user() + ":" + credentials.password().orElse(""))
                                .getBytes(StandardCharsets.UTF_8)))
                .append("\r\n"));
    return request.append("\r\n").toString().getBytes(StandardCharsets.UTF_8);
  }

  /** {@code text} with control characters escaped, and cut at 200 characters, for a message. */
  private static String printable(String text) {
    StringBuilder shown = new StringBuilder();
    for (char c : text.substring(0, Math.min(text.length(), 200)).toCharArray()) {
      if (c < 0x20 || c == 0x7F) {
        shown.append("\\x%02X".formatted((int) c));
      } else {
        shown.append(c);
      }
    }
    return text.length() > 200 ? shown + "…" : shown.toString();
  }
}
