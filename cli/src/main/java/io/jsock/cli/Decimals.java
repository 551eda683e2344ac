package io.jsock.cli;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** Decimal option values (sizes, durations) read as written, without a {@code double} between. */
final class Decimals {
  /**
   * The largest value read: half of a {@code long}, so that a deadline or a sum cannot overflow.
   */
  static final long LARGEST = Long.MAX_VALUE / 2;

  private Decimals() {}

  /**
   * {@code number} (decimal digits, perhaps with a point) times {@code unit}, rounded half up to a
   * whole; -1 when that is over {@link #LARGEST}.
   */
  static long times(String number, long unit) {
    BigDecimal whole =
        new BigDecimal(number).multiply(BigDecimal.valueOf(unit)).setScale(0, RoundingMode.HALF_UP);
    return whole.compareTo(BigDecimal.valueOf(LARGEST)) > 0 ? -1 : whole.longValueExact();
  }
}
