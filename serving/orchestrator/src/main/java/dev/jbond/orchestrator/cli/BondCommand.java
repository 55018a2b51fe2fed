package dev.jbond.orchestrator.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code bond} command line: one subcommand per capability. {@code ./bond} at the repository
 * root builds this jar when needed and runs it.
 */
@Command(
    name = "bond",
    mixinStandardHelpOptions = true,
    versionProvider = BondCommand.Version.class,
    description = "J-BOND (Best-of-N distillation) on the JVM.",
    subcommands = {
      DemoCommand.class,
      AssetsCommand.class,
      SampleCommand.class,
      SftCommand.class,
      ServeCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class BondCommand implements Callable<Integer> {
  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  /**
   * Runs the command line.
   *
   * @param args the arguments
   */
  public static void main(String[] args) {
    System.exit(newCommandLine().execute(args));
  }

  /**
   * Returns a command line with jbond's error handling: bad input prints one line, not a stack
   * trace.
   *
   * @return the command line
   */
  public static CommandLine newCommandLine() {
    CommandLine cl = new CommandLine(new BondCommand());
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException) {
            commandLine.getErr().println("bond: " + ex.getMessage());
            return 2;
          }
          throw ex;
        });
    return cl;
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
