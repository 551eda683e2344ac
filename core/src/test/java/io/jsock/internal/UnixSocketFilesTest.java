package io.jsock.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixSocketFilesTest {
  @TempDir Path dir;

  @Test
  void aListenersPathIsHeldUntilItClosesAndThenItsFileIsStale() throws Exception {
    Path path = dir.resolve("held.sock");
    var address = UnixDomainSocketAddress.of(path);
    try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      listener.bind(address);
      listener.configureBlocking(false);
      assertThat(UnixSocketFiles.isHeld(path)).isTrue();
      assertThat(UnixSocketFiles.removeIfStale(address)).isFalse();
      assertThat(listener.accept()).as("nothing was sent a connection").isNull();
    }
    assertThat(Files.exists(path)).as("the JDK leaves the file behind").isTrue();
    assertThat(UnixSocketFiles.isHeld(path)).isFalse();
    assertThat(UnixSocketFiles.isHeld(dir.resolve("never-bound.sock"))).isFalse();
    assertThat(UnixSocketFiles.removeIfStale(address)).isTrue();
    assertThat(Files.exists(path)).isFalse();
  }
}
