package io.jsock.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * The files that options name ({@code --ca}, {@code --cert}, {@code --key}, {@code --pkcs12}): one
 * that is missing, unreadable or holds the wrong thing is a usage error naming its option.
 */
final class OptionFiles {
  private OptionFiles() {}

  /**
   * Fails unless {@code file}, given as {@code option}, is a file this process can read: a regular
   * file, or a pipe or character device ({@code --ca <(...)}, {@code /dev/stdin}), which ncat and
   * socat read too; never a directory or a socket.
   */
  static void requireReadable(CommandSpec spec, String option, Path file) {
    String problem =
        !Files.exists(file)
            ? "no such file"
            : !Files.isRegularFile(file) && !isPipeOrCharacterDevice(file)
                ? "not a regular file"
                : !Files.isReadable(file) ? "permission denied" : null;
    if (problem != null) {
      throw new ParameterException(spec.commandLine(), option + " " + file + ": " + problem);
    }
  }

  /** Whether {@code file} (its link's target) is a FIFO or a character device, by its mode. */
  private static boolean isPipeOrCharacterDevice(Path file) {
    try {
      int type = (Integer) Files.getAttribute(file, "unix:mode") & 0170000; // S_IFMT
      return type == 0010000 || type == 0020000; // S_IFIFO, S_IFCHR
    } catch (IOException | UnsupportedOperationException e) {
      return false; // not to be told: as before, only regular files
    }
  }

  /**
   * The usage error for {@code option} from the library's complaint about its file, which begins
   * with the name of the library's parameter ({@code "certChainPem: no certificate in …"}).
   */
  static ParameterException unsuitable(
      CommandSpec spec, String option, IllegalArgumentException e) {
    String reason = e.getMessage().replaceFirst("^[A-Za-z0-9]+: ", "");
    return new ParameterException(spec.commandLine(), option + ": " + reason, e);
  }
}
