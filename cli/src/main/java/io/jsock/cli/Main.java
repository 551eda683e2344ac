package io.jsock.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jsock} command: the tutorial's client and server, and the tools built on them. */
@Command(
    name = "jsock",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description =
        "Python's socket tutorial, for real: a client, a server, and the tools around them.",
    subcommands = {
      ServerCommand.class,
      ClientCommand.class,
      DemoCommand.class,
      EchoCommand.class,
      ConnectCommand.class,
      ListenCommand.class,
      BrokerCommand.class,
      RelayCommand.class,
      SendCommand.class,
      ReceiveCommand.class,
      ResolveCommand.class,
      BenchCommand.class,
      CompletionCommand.class
    },
    footerHeading = "%nExit codes:%n",
    footer = {
      "  0  success",
      "  1  failure not listed below",
      "  2  usage error (unknown option, port out of range, …)",
      "  3  connection refused",
      "  4  timed out",
      "  5  TLS failure (certificate not trusted, wrong name, handshake failed)",
      "  6  host name could not be resolved",
      "  7  address already in use",
      "130  interrupted (Ctrl-C)"
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Runs {@code jsock} with the given arguments and exits with its exit code. */
  public static void main(String[] args) {
    // before anything logs, and by the class's name: a static call into it would initialize
    // LogManager, its superclass, which reads the property then
    System.setProperty("java.util.logging.manager", ShutdownSafeLogManager.class.getName());
    Signals.install();
    System.exit(run(args));
  }

  /** Runs {@code jsock} with the given arguments and returns its exit code. */
  public static int run(String... args) {
    CommandLine commandLine = commandLine();
    int code = commandLine.execute(args);
    // what picocli prints itself (--help, --version) and the completion script go out without
    // Lines: a stdout that could not take them fails the command as a line does
    if (code == ExitCode.OK.code() && commandLine.getOut().checkError()) {
      commandLine.getErr().println("jsock: write to stdout failed");
      commandLine.getErr().flush();
      return ExitCode.FAILURE.code();
    }
    return code;
  }

  /** The {@code jsock} command line, with its failure handling, ready to execute. */
  public static CommandLine commandLine() {
    Failures failures = new Failures();
    CommandLine commandLine =
        new CommandLine(new Main())
            .setExecutionExceptionHandler(failures)
            .setParameterExceptionHandler(failures)
            // every argument as written, as ncat and socat take it: picocli's argument files
            // read 'send @notes.txt' as the arguments in notes.txt
            .setExpandAtFiles(false)
            // over System.out itself (picocli's own writer wraps it in an encoder, behind which
            // checkError never sees that a write failed): see Lines.stdout
            .setOut(new PrintWriter(System.out, true, System.out.charset()));
    WholeNumbers.register(commandLine);
    // every command offers -V, --version (mixinStandardHelpOptions), but picocli gives a
    // subcommand no version of the parent's: without this, 'jsock echo --version' printed nothing
    for (CommandLine command : commandLine.getSubcommands().values()) {
      command.getCommandSpec().versionProvider(new Version());
    }
    return commandLine;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
  }
}
