package dev.jbond.orchestrator.cli;

import dev.jbond.orchestrator.config.ConfigException;
import io.micronaut.configuration.picocli.MicronautFactory;
import io.micronaut.context.ApplicationContext;
import io.micronaut.context.env.Environment;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code bond} command line: one subcommand per capability, as a Micronaut application.
 * Subcommands are created by Micronaut ({@link MicronautFactory}), so they get their collaborators
 * by constructor injection; the context is a command-line context that starts no HTTP server.
 * {@code ./bond} at the repository root builds this jar when needed and runs it.
 *
 * <p>Exit codes: 0 success, 2 a usage or configuration error, 1 any other failure. Every failure is
 * one line on stderr ({@code bond: <message>}); {@code --verbose} adds the stack trace.
 */
@Command(
    name = "bond",
    mixinStandardHelpOptions = true,
    versionProvider = BondCommand.Version.class,
    description = "J-BOND (Best-of-N distillation) on the JVM.",
    subcommands = {
      DemoCommand.class,
      RunCommand.class,
      EvalCommand.class,
      ExportCommand.class,
      AssetsCommand.class,
      SampleCommand.class,
      SftCommand.class,
      ServeCommand.class,
      ServerCommand.class,
      BenchCommand.class,
      ReportCommand.class,
      CommandLine.HelpCommand.class
    })
public final class BondCommand implements Callable<Integer> {
  /** Exit code of a usage or configuration error. */
  public static final int EXIT_USAGE = 2;

  /** Exit code of any other failure. */
  public static final int EXIT_FAILURE = 1;

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--verbose",
      scope = ScopeType.INHERIT,
      description = "Print stack traces of failures and log at INFO.")
  boolean verbose;

  /**
   * Runs the command line and exits with its code.
   *
   * @param args the arguments
   */
  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
    PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    System.exit(execute(args, out, err));
  }

  /**
   * Runs the command line in a fresh command-line application context, closed before returning.
   *
   * @param args the arguments
   * @param out standard output of the commands that print through picocli
   * @param err where errors go
   * @return the exit code: 0 success, 2 usage or configuration error, 1 failure
   */
  public static int execute(String[] args, PrintWriter out, PrintWriter err) {
    boolean verbose = false;
    for (String arg : args) {
      verbose |= arg.equals("--verbose");
    }
    Logging.configure(verbose);
    try (ApplicationContext context =
        ApplicationContext.builder(BondCommand.class, Environment.CLI)
            .deduceEnvironment(false)
            .banner(false)
            .start()) {
      CommandLine cl = newCommandLine(context);
      cl.setOut(out);
      cl.setErr(err);
      int code = cl.execute(args);
      out.flush();
      err.flush();
      return code;
    }
  }

  /**
   * Returns a command line whose commands come from {@code context}, with jbond's error handling:
   * bad input prints one line, not a stack trace.
   *
   * @param context the application context, owned by the caller
   * @return the command line
   */
  public static CommandLine newCommandLine(ApplicationContext context) {
    CommandLine cl = new CommandLine(BondCommand.class, new MicronautFactory(context));
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          CommandLine failed = ex.getCommandLine();
          PrintWriter err = failed.getErr();
          err.println(
              "bond: "
                  + oneLine(ex)
                  + " (see: bond "
                  + failed.getCommandSpec().qualifiedName(" ").replaceFirst("^bond ?", "")
                  + (failed.getCommandSpec().name().equals("bond") ? "" : " ")
                  + "--help)");
          err.flush();
          return EXIT_USAGE;
        });
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          PrintWriter err = commandLine.getErr();
          err.println("bond: " + oneLine(ex));
          if (parseResult.hasMatchedOption("--verbose")) {
            ex.printStackTrace(err);
          }
          err.flush();
          return exitCode(ex);
        });
    return cl;
  }

  /** The exit code of a failure: 2 for the caller's mistakes, 1 for everything else. */
  static int exitCode(Throwable ex) {
    if (ex instanceof ConfigException
        || ex instanceof IllegalArgumentException
        || ex instanceof IllegalStateException) {
      return EXIT_USAGE;
    }
    if (ex instanceof NoSuchFileException
        || ex instanceof UncheckedIOException u && u.getCause() instanceof NoSuchFileException) {
      return EXIT_USAGE;
    }
    return EXIT_FAILURE;
  }

  /** The one-line message of a failure. */
  static String oneLine(Throwable ex) {
    String message = ex.getMessage();
    if (ex instanceof NoSuchFileException missing) {
      message = "No such file: " + missing.getFile();
    } else if (ex instanceof IOException && message == null) {
      message = ex.getClass().getSimpleName();
    }
    if (message == null || message.isBlank()) {
      message = ex.getClass().getSimpleName();
    }
    return message.replace('\n', ' ').replace('\r', ' ').strip();
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 0;
  }

  /** Reports the jar's version. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = BondCommand.class.getPackage().getImplementationVersion();
      return new String[] {"jbond " + (v == null ? "(development build)" : v)};
    }
  }
}
