package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The tutorial's two programs in-process ({@code jsock server}, {@code jsock client}) against a
 * peer on loopback that sends what the seed's peer never would, compared with what python3 does
 * running the seed's programs.
 */
class SeedTest {
  private final StringWriter err = new StringWriter();

  /** Standard output that tells when its first line (the server's banner) has been flushed. */
  private static final class Output extends StringWriter {
    final CompletableFuture<String> firstLine = new CompletableFuture<>();

    @Override
    public void flush() {
      String text = toString();
      if (text.contains("\n")) {
        firstLine.complete(text.substring(0, text.indexOf('\n')));
      }
    }
  }

  private int run(Output out, String... args) {
    return Main.commandLine()
        .setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true))
        .execute(args);
  }

  @Test
  void aServerGivenBytesThatAreNotUtf8FailsAsTheSeedsDecodeDoesAndRepliesNothing()
      throws Exception {
    // python3 server.py, sent b'\xff abc': UnicodeDecodeError "'utf-8' codec can't decode byte
    // 0xff in position 0: invalid start byte", exit 1, no reply (the client reads b''); jsock
    // printed "Received: \ufffd abc" and replied
    Output out = new Output();
    CompletableFuture<Integer> server =
        CompletableFuture.supplyAsync(
            () -> run(out, "server", "--host", "127.0.0.1", "--port", "0"),
            runnable -> Thread.ofVirtual().start(runnable));
    String banner = out.firstLine.get(60, TimeUnit.SECONDS);
    Matcher port = Pattern.compile("Server is listening on 127\\.0\\.0\\.1:(\\d+)").matcher(banner);
    assertThat(port.matches()).as(banner).isTrue();
    try (Socket client = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM)) {
      client.setTimeout(Duration.ofSeconds(60));
      client.connect("127.0.0.1", Integer.parseInt(port.group(1)));
      String local = "127.0.0.1:" + ((InetSocketAddress) client.getSockName()).getPort();
      client.sendAll(new byte[] {(byte) 0xff, ' ', 'a', 'b', 'c'});
      assertThat(readToEnd(client)).isEmpty();
      assertThat(server.get(60, TimeUnit.SECONDS)).isEqualTo(1);
      assertThat(err.toString())
          .isEqualTo(
              "jsock: received from "
                  + local
                  + ": 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte\n");
    }
    assertThat(out.toString()).isEqualTo(banner + "\n");
  }

  @Test
  void aClientWhoseReplyIsCutInsideACharacterFailsAsTheSeedsDecodeDoes() throws Exception {
    // a reply of 1,023 ASCII bytes and then 'é': recv(1024) ends on the first of é's two bytes;
    // python3 client.py: "'utf-8' codec can't decode byte 0xc3 in position 1023: unexpected end
    // of data", exit 1, nothing printed; jsock printed the line ending in U+FFFD, exit 0
    assertThat(clientFailureOn(("x".repeat(1023) + "é").getBytes(UTF_8)))
        .isEqualTo("byte 0xc3 in position 1023: unexpected end of data");
  }

  @Test
  void aClientNamesTheUndecodableBytesAsPythonDoes() throws Exception {
    // python3: b'ok\xe2\x82a'.decode() -> "can't decode bytes in position 2-3: invalid
    // continuation byte"; b'ok\xed\xa0\x80' (a surrogate, three bytes to the JDK's decoder) ->
    // "can't decode byte 0xed in position 2: invalid continuation byte"
    assertThat(clientFailureOn(new byte[] {'o', 'k', (byte) 0xe2, (byte) 0x82, 'a'}))
        .isEqualTo("bytes in position 2-3: invalid continuation byte");
    assertThat(clientFailureOn(new byte[] {'o', 'k', (byte) 0xed, (byte) 0xa0, (byte) 0x80}))
        .isEqualTo("byte 0xed in position 2: invalid continuation byte");
  }

  /**
   * Runs {@code jsock client} against a server replying {@code reply}; checks that it failed as
   * Python's decode fails (exit 1, nothing printed) and returns what the message says of the bytes.
   */
  private String clientFailureOn(byte[] reply) throws Exception {
    err.getBuffer().setLength(0);
    try (TinyServer server =
        TinyServer.start(
            conn -> {
              conn.recv(1024);
              conn.sendAll(reply);
              return "replied";
            })) {
      Output out = new Output();
      int port = server.port();
      assertThat(run(out, "client", "--host", "127.0.0.1", "--port", String.valueOf(port)))
          .isEqualTo(1);
      assertThat(server.nextResult()).isEqualTo("replied");
      assertThat(out.toString()).isEmpty();
      String prefix = "jsock: received from 127.0.0.1:" + port + ": 'utf-8' codec can't decode ";
      assertThat(err.toString()).startsWith(prefix).endsWith("\n");
      return err.toString().substring(prefix.length()).strip();
    }
  }

  private static byte[] readToEnd(Socket conn) throws Exception {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (int i = 0; i < 10_000; i++) {
      byte[] chunk = conn.recv(4096);
      if (chunk.length == 0) {
        return all.toByteArray();
      }
      all.write(chunk);
    }
    throw new AssertionError("no end of stream after 10,000 reads");
  }
}
