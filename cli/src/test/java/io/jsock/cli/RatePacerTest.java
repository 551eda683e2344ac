package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The schedule of {@code jsock send --rate}, read at given clock readings. */
class RatePacerTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void piecesAreDueTheirSizesWorthOfTimeApart() {
    RatePacer pacer = new RatePacer(1000);
    assertThat(pacer.book(100, 5 * SECOND)).isEqualTo(5 * SECOND + SECOND / 10);
    assertThat(pacer.book(100, 5 * SECOND + SECOND / 10)).isEqualTo(5 * SECOND + SECOND / 5);
    assertThat(pacer.book(500, 5 * SECOND + SECOND / 5)).isEqualTo(5 * SECOND + 7 * SECOND / 10);
  }

  @Test
  void timeLostWaitingForTheReceiverIsNotMadeUpWithABurst() {
    RatePacer pacer = new RatePacer(1000);
    assertThat(pacer.book(1000, 0)).isEqualTo(SECOND);
    // The receiver stopped reading: the next send began only at 11 s. Its 1000 bytes are a
    // second's worth from then, not due at once (at 2 s) with nine more seconds to catch up.
    assertThat(pacer.book(1000, 11 * SECOND)).isEqualTo(12 * SECOND);
    assertThat(pacer.book(1000, 12 * SECOND)).isEqualTo(13 * SECOND);
  }

  @Test
  void aClockReadingBelowZeroIsATimeLikeAnyOther() {
    RatePacer pacer = new RatePacer(1000);
    assertThat(pacer.book(1000, -5 * SECOND)).isEqualTo(-4 * SECOND);
    assertThat(pacer.book(1000, -4 * SECOND)).isEqualTo(-3 * SECOND);
  }
}
