package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * The bench's content pattern: windows are contiguous across the period, and checks find a flip.
 */
class EchoPatternTest {
  private final EchoPattern pattern = new EchoPattern(1000);

  @Test
  void aWindowAcrossTheEndOfThePeriodIsTheStreamsBytes() {
    long seed = 7;
    long offset = EchoPattern.PERIOD - 10; // starts 3 bytes before the period wraps
    ByteBuffer window = pattern.window(pattern.view(), seed, offset, 100);
    for (int i = 0; i < 100; i++) {
      assertThat(window.get(window.position() + i)).isEqualTo(pattern.at(seed, offset + i));
    }
  }

  @Test
  void theStreamRepeatsOnlyAfterThePeriod() {
    assertThat(pattern.at(0, 5)).isEqualTo(pattern.at(0, 5 + EchoPattern.PERIOD));
    byte[] first = new byte[64];
    byte[] next = new byte[64];
    pattern.window(pattern.view(), 0, 0, 64).get(first);
    pattern.window(pattern.view(), 0, 64, 64).get(next);
    assertThat(first).isNotEqualTo(next);
  }

  @Test
  void mismatchFindsTheFirstWrongByteAndNoneInAnIntactEcho() {
    ByteBuffer received = ByteBuffer.allocateDirect(200);
    received.put(pattern.window(pattern.view(), 3, 500, 200)).flip();
    assertThat(pattern.mismatch(received, pattern.view(), 3, 500)).isEqualTo(-1);
    received.put(42, (byte) ~received.get(42));
    assertThat(pattern.mismatch(received, pattern.view(), 3, 500)).isEqualTo(42);
  }
}
