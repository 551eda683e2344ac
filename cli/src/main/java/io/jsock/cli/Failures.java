package io.jsock.cli;

import io.jsock.AddressInUseException;
import io.jsock.AddressResolutionException;
import io.jsock.ConnectionRefusedException;
import io.jsock.tls.TlsException;
import java.io.InterruptedIOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * Turns a failure into one line on stderr and a documented exit code: a person sees what went wrong
 * and where ({@code jsock: connect to 127.0.0.1:12345: connection refused}), never a stack trace.
 */
final class Failures implements IExecutionExceptionHandler, IParameterExceptionHandler {
  @Override
  public int handleExecutionException(Exception e, CommandLine commandLine, ParseResult parsed) {
    if (e instanceof ParameterException usage) {
      return handleParseException(usage, new String[0]);
    }
    // a failure out of a method that cannot throw IOException (a line for stdout) is told as such
    Throwable failure = e instanceof UncheckedIOException unchecked ? unchecked.getCause() : e;
    PrintWriter err = commandLine.getErr();
    err.println("jsock: " + describe(failure));
    err.flush();
    return exitCode(failure).code();
  }

  @Override
  public int handleParseException(ParameterException e, String[] args) {
    PrintWriter err = e.getCommandLine().getErr();
    err.println("jsock: " + e.getMessage());
    err.println(
        "Try 'jsock "
            + (e.getCommandLine().getParent() == null
                ? ""
                : e.getCommandLine().getCommandName() + " ")
            + "--help' for more information.");
    err.flush();
    return ExitCode.USAGE.code();
  }

  static ExitCode exitCode(Throwable e) {
    return switch (e) {
      case ConnectionRefusedException refused -> ExitCode.REFUSED;
      case SocketTimeoutException timeout -> ExitCode.TIMEOUT;
      case TlsException tls -> ExitCode.TLS;
      case javax.net.ssl.SSLException tls -> ExitCode.TLS;
      case AddressResolutionException unknown -> ExitCode.UNKNOWN_HOST;
      case AddressInUseException inUse -> ExitCode.ADDRESS_IN_USE;
      case InterruptedIOException interrupted -> ExitCode.INTERRUPTED;
      case InterruptedException interrupted -> ExitCode.INTERRUPTED;
      case IllegalArgumentException usage -> ExitCode.USAGE;
      default -> ExitCode.FAILURE;
    };
  }

  /**
   * Why a file operation failed, in the words of {@code strerror}: the JDK's {@code
   * FileSystemException} keeps the reason only for some errors ({@code Is a directory}) and none
   * for permission or a missing file, whose message is then the bare path.
   */
  static String reason(FileSystemException e) {
    return switch (e) {
      case AccessDeniedException denied -> "permission denied";
      case NoSuchFileException missing -> "no such file or directory";
      case FileAlreadyExistsException exists -> "file exists";
      default ->
          e.getReason() == null
              ? e.getClass().getSimpleName()
              : e.getReason().toLowerCase(Locale.ROOT);
    };
  }

  private static String describe(Throwable e) {
    if (e instanceof FileSystemException file && file.getFile() != null) {
      return file.getFile() + ": " + reason(file);
    }
    String message = e.getMessage();
    return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
  }
}
