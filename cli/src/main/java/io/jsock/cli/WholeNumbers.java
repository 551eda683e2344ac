package io.jsock.cli;

import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads the whole-number options ({@code --max-clients}, {@code --max-connections}, bench's {@code
 * -c}, {@code -s}, ...) in ASCII digits, as ports and prefix lengths are written: picocli's own
 * converter, as {@link Integer#parseInt}, takes a sign and any script's digits ({@code ٠} read 0,
 * {@code +5} read 5). Registered once for every {@code int} and {@code long} option, which
 * picocli's message then names.
 */
final class WholeNumbers {
  private WholeNumbers() {}

  /** Every {@code int} and {@code long} option of {@code commandLine} and its subcommands. */
  static void register(CommandLine commandLine) {
    ITypeConverter<Integer> ints = text -> (int) parse(text, Integer.MAX_VALUE);
    ITypeConverter<Long> longs = text -> parse(text, Long.MAX_VALUE);
    commandLine
        .registerConverter(Integer.class, ints)
        .registerConverter(int.class, ints)
        .registerConverter(Long.class, longs)
        .registerConverter(long.class, longs);
  }

  /** {@code text} in ASCII digits, at most {@code max}; a {@link TypeConversionException}. */
  static long parse(String text, long max) {
    String digits = text.strip();
    if (!digits.matches("[0-9]+")) {
      throw new TypeConversionException(
          "not a whole number: '" + text + "' (write it in ASCII digits, as 100)");
    }
    long number;
    try {
      number = Long.parseLong(digits);
    } catch (NumberFormatException e) { // past Long.MAX_VALUE
      number = -1;
    }
    if (number < 0 || number > max) {
      throw new TypeConversionException(
          "number out of range: '" + text + "' (at most " + max + ")");
    }
    return number;
  }
}
