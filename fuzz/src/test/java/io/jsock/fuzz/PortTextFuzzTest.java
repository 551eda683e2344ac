package io.jsock.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jsock.AddrInfo;
import io.jsock.AddressResolutionException;
import io.jsock.Errno;
import io.jsock.Family;
import io.jsock.SocketKind;
import io.jsock.Sockets;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The port text of {@link Sockets#getAddrInfo} against glibc's rules, with a numeric host so that
 * nothing is looked up: {@code strtoul} in base 10 must reach the end of the text (C's white space
 * first, a sign, digits), and the number, taken as a C {@code int}, is a port if it is not
 * negative; text that is no such number is a service name. Where glibc cuts a number over 65535 to
 * 16 bits, jsock refuses it (as documented); every other answer must be glibc's.
 */
final class PortTextFuzzTest {
  private static final BigInteger ULONG_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
  private static final String[] PIECES = {
    " ",
    "\t",
    "\n",
    "\u000b",
    "\f",
    "\r",
    "+",
    "-",
    "0",
    "00",
    "1",
    "65535",
    "65536",
    "80",
    "4294967296",
    "18446744073709551616",
    "x",
    "http",
    "\u0660",
    "\u00a0",
    "\u001c",
    "\u0000"
  };

  @FuzzTest(maxDuration = "2m")
  void readsPortTextAsGlibc(FuzzedDataProvider data) {
    StringBuilder built = new StringBuilder();
    int pieces = data.consumeInt(0, 6);
    for (int i = 0; i < pieces; i++) {
      built.append(
          data.consumeBoolean()
              ? data.pickValue(PIECES)
              : data.consumeString(data.consumeInt(0, 8)));
    }
    String port = built.toString();
    Long number = strtoulToEnd(port); // null: a service name to glibc
    Integer answer;
    try {
      List<AddrInfo> infos =
          Sockets.getAddrInfo("127.0.0.1", port, Family.AF_INET, SocketKind.SOCK_STREAM);
      answer = ((InetSocketAddress) infos.getFirst().address()).getPort();
    } catch (AddressResolutionException e) {
      assertThat(e.errno()).as("errno for %s", quoted(port)).isEqualTo(Errno.EAI_SERVICE);
      answer = null;
    } catch (IllegalArgumentException e) {
      assertThat(e).as("refused %s", quoted(port)).hasMessageContaining("port out of range");
      assertThat(number).as("out of range: %s", quoted(port)).isNotNull();
      assertThat(number >= 0 && number <= 65535).as("out of range: %s", quoted(port)).isFalse();
      return;
    }
    if (number == null) {
      Integer service = service(port);
      assertThat(answer).as("service %s", quoted(port)).isEqualTo(service);
    } else if (number >= 0 && number <= 65535) {
      assertThat(answer).as("port %s", quoted(port)).isEqualTo(number.intValue());
    } else {
      // a negative int is a service name to glibc (none is so named); a larger number glibc cuts
      assertThat(answer).as("port %s (%d to glibc)", quoted(port), number).isNull();
    }
  }

  /**
   * glibc's {@code strtoul(text, &end, 10)} when {@code *end == '\0'}, as the C {@code int}
   * getaddrinfo keeps it: the number if it is a port, -1 if the int is negative (glibc then looks
   * the text up as a service name), {@link Long#MAX_VALUE} if glibc would cut it to 16 bits; null
   * when the text is not one number to its end. The empty text is 0.
   */
  private static Long strtoulToEnd(String text) {
    if (text.indexOf('\0') >= 0) {
      return null; // C ends the text there; jsock may only refuse it
    }
    int i = 0;
    while (i < text.length() && " \t\n\u000b\f\r".indexOf(text.charAt(i)) >= 0) {
      i++;
    }
    boolean negative = false;
    if (i < text.length() && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
      negative = text.charAt(i) == '-';
      i++;
    }
    int digitsStart = i;
    while (i < text.length() && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
      i++;
    }
    if (text.isEmpty()) {
      return 0L;
    }
    if (i == digitsStart || i != text.length()) {
      return null;
    }
    BigInteger value = new BigInteger(text.substring(digitsStart, i));
    if (value.compareTo(ULONG_MAX) > 0) {
      value = ULONG_MAX; // ERANGE
    } else if (negative) {
      value = BigInteger.ONE.shiftLeft(64).subtract(value).and(ULONG_MAX);
    }
    int asInt = value.intValue(); // the low 32 bits, as C's conversion
    if (asInt < 0) {
      return -1L; // looked up as a service name
    }
    return value.compareTo(BigInteger.valueOf(65535)) <= 0 ? value.longValue() : Long.MAX_VALUE;
  }

  private static Integer service(String name) {
    try {
      return Sockets.getServByName(name, "tcp");
    } catch (AddressResolutionException e) {
      return null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String quoted(String text) {
    StringBuilder out = new StringBuilder("\"");
    text.codePoints()
        .forEach(
            c ->
                out.append(c >= 0x20 && c < 0x7F ? Character.toString(c) : "\\u{%x}".formatted(c)));
    return out.append('"').toString();
  }
}
