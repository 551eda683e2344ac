package io.jsock.cli;

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
   * Fails unless {@code file}, given as {@code option}, is a regular file this process can read.
   */
  static void requireReadable(CommandSpec spec, String option, Path file) {
    String problem =
        !Files.exists(file)
            ? "no such file"
            : !Files.isRegularFile(file)
                ? "not a regular file"
                : !Files.isReadable(file) ? "permission denied" : null;
    if (problem != null) {
      throw new ParameterException(spec.commandLine(), option + " " + file + ": " + problem);
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
