package io.jsock.cli;

import java.io.IOException;

/**
 * A file transfer that ended without the file in place: refused by either side, cut short or not
 * matching its SHA-256. Its message is the one line both ends show; the exit code is 1.
 */
final class TransferFailedException extends IOException {
  TransferFailedException(String message) {
    super(message);
  }

  TransferFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
