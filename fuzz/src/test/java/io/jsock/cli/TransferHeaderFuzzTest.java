package io.jsock.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * What {@code jsock receive} takes from a sender it does not know: the transfer header
 * (docs/cli/transfer.md) and the file name in it. In this package, since the protocol is the CLI's
 * own.
 */
final class TransferHeaderFuzzTest {
  private static final Path DIRECTORY = Path.of("/srv/incoming");

  /**
   * Any bytes: {@code readHeader} returns what the documented layout says they hold, or refuses
   * them with a {@link TransferFailedException} or an {@link EOFException}; nothing else escapes.
   */
  @FuzzTest(maxDuration = "2m")
  void readsHeadersAsDocumented(FuzzedDataProvider data) throws IOException {
    byte[] bytes = data.consumeRemainingAsBytes();
    TransferProtocol.Header expected = layout(bytes);
    TransferProtocol.Header header;
    try {
      header = TransferProtocol.readHeader(new DataInputStream(new ByteArrayInputStream(bytes)));
    } catch (TransferFailedException | EOFException refused) {
      assertThat(expected)
          .as("refused (%s) %s", refused.getMessage(), TransferProtocol.hex(bytes))
          .isNull();
      return;
    }
    assertThat(expected).as("accepted %s", TransferProtocol.hex(bytes)).isNotNull();
    assertThat(header.name()).isEqualTo(expected.name());
    assertThat(header.size()).isEqualTo(expected.size());
    assertThat(header.sha256()).isEqualTo(expected.sha256());
  }

  /**
   * Any name a sender announces: one that {@code isPlainFileName} lets through names a file right
   * in the receiving directory, its part file beside it, never anywhere else.
   */
  @FuzzTest(maxDuration = "2m")
  void takesOnlyNamesInsideTheDirectory(FuzzedDataProvider data) {
    String name = data.consumeRemainingAsString();
    if (!TransferProtocol.isPlainFileName(name)) {
      return;
    }
    Path file = DIRECTORY.resolve(name);
    Path part = file.resolveSibling(file.getFileName() + ".part");
    for (Path path : new Path[] {file, part, Path.of(name)}) {
      assertThat(path.normalize()).as("%s from the name %s", path, name).isEqualTo(path);
      assertThat(path.getNameCount()).as("%s", path).isEqualTo(path.isAbsolute() ? 3 : 1);
    }
    assertThat(file.getParent()).isEqualTo(DIRECTORY);
    assertThat(part.getParent()).isEqualTo(DIRECTORY);
  }

  /** The header the bytes hold by the layout alone, or null if they hold none. */
  private static TransferProtocol.Header layout(byte[] bytes) {
    ByteBuffer in = ByteBuffer.wrap(bytes); // big-endian, as the protocol
    if (in.remaining() < 4 + 1 + 2
        || in.getInt() != TransferProtocol.MAGIC
        || in.get() != TransferProtocol.VERSION) {
      return null;
    }
    int length = Short.toUnsignedInt(in.getShort());
    if (length > TransferProtocol.MAX_TEXT_BYTES || in.remaining() < length + 8 + 32) {
      return null;
    }
    String name = new String(bytes, in.position(), length, UTF_8);
    in.position(in.position() + length);
    long size = in.getLong();
    if (size < 0) {
      return null;
    }
    return new TransferProtocol.Header(
        name, size, Arrays.copyOfRange(bytes, in.position(), in.position() + 32));
  }
}
