package dev.easel.cli;

import dev.easel.core.BuildInfo;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code easel} command. */
@Command(name = "easel",
        mixinStandardHelpOptions = true,
        versionProvider = EaselCli.Version.class,
        description = "Trains, converts and merges Stable Diffusion models and their adapters.",
        subcommands = {
            PluginsCommand.class,
            TrainCommand.class,
            ServeCommand.class,
            QuickstartCommand.class,
            MergeCommand.class,
            InspectCommand.class,
            ConvertCommand.class,
            InitModelCommand.class, TokenizeCommand.class, SampleCommand.class,
            LoraCommand.class,
            DatasetCommand.class, TrainVaeCommand.class,
            CommandLine.HelpCommand.class
        })
public final class EaselCli implements Runnable {
    /** Exit status of a failed command (bad input, failed work). */
    public static final int EXIT_FAILURE = 1;
    /** Exit status of a usage error (unknown option, missing argument). */
    public static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Runs the CLI and exits the JVM with its status. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI in-process and returns the exit status (for tests and embedding). */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** Runs the CLI with the given output streams. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    /** The configured command line: failures print one line and give status 1. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new EaselCli());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("easel: " + describe(ex));
            if (Boolean.getBoolean("easel.debug")) {
                ex.printStackTrace(commandLine.getErr());
            }
            commandLine.getErr().flush();
            return EXIT_FAILURE;
        });
        cl.setExitCodeExceptionMapper(ex -> ex instanceof CommandLine.ParameterException ? EXIT_USAGE
                : EXIT_FAILURE);
        return cl;
    }

    private static String describe(Throwable ex) {
        Throwable t = ex;
        while ((t instanceof java.io.UncheckedIOException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        String msg = t.getMessage();
        return msg == null || msg.isBlank() ? t.toString() : msg;
    }

    /** Prints Easel's version and its runtime's. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"easel " + BuildInfo.easelVersion() + " (DJL " + BuildInfo.djlVersion()
                    + ", PyTorch " + BuildInfo.pytorchVersion() + ")"};
        }
    }
}
