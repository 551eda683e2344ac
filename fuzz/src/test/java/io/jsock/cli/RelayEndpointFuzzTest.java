package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code jsock relay}'s endpoints ({@link RelayEndpoint}): whatever text LISTEN or TARGET is given,
 * the parser answers an endpoint or a {@link TypeConversionException}, never another exception; an
 * endpoint has a port in range or a path, and reads back from what it writes as itself.
 */
final class RelayEndpointFuzzTest {
  private static final String[] PIECES = {
    "tcp:",
    "udp:",
    "tls:",
    "unix:",
    "tls+unix:",
    "TCP:",
    "http:",
    ":",
    "[",
    "]",
    "::1",
    "[::1]",
    "127.0.0.1",
    "localhost",
    "8080",
    "0",
    "65536",
    "-1",
    "+1",
    "/",
    "/tmp/x.sock",
    " ",
    "\t",
    "%",
    "\u0000",
    "\u00e9",
    "\u0660"
  };

  @FuzzTest(maxDuration = "2m")
  void readsEndpointsOrRefuses(FuzzedDataProvider data) {
    StringBuilder built = new StringBuilder();
    int pieces = data.consumeInt(0, 6);
    for (int i = 0; i < pieces; i++) {
      built.append(
          data.consumeBoolean()
              ? data.pickValue(PIECES)
              : data.consumeString(data.consumeInt(0, 8)));
    }
    String text = built.toString();
    RelayEndpoint endpoint;
    try {
      endpoint = RelayEndpoint.parse(text);
    } catch (TypeConversionException refused) {
      assertThat(refused.getMessage()).as("refused '%s'", text).startsWith("not an endpoint: '");
      return;
    }
    if (endpoint.scheme().isUnix()) {
      assertThat(endpoint.path()).as("'%s'", text).isNotNull();
      assertThat(endpoint.path().toString()).as("'%s'", text).isNotEmpty();
    } else {
      assertThat(endpoint.path()).as("'%s'", text).isNull();
      assertThat(endpoint.port()).as("'%s'", text).isBetween(0, 65535);
      if (endpoint.host() != null) {
        assertThat(endpoint.host()).as("'%s'", text).isNotEmpty();
      }
    }
    String written = endpoint.toString();
    if (!written.equals(written.strip())) {
      return; // a path of white space ("unix: /" is the file " "), which the text strip drops
    }
    assertThat(RelayEndpoint.parse(written))
        .as("'%s' written as '%s'", text, written)
        .isEqualTo(endpoint);
  }
}
