package dev.easel.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code easel dataset}: the synthetic shapes dataset and its pixel check. */
@Command(name = "dataset", mixinStandardHelpOptions = true,
        description = "Generates the synthetic shapes dataset and checks images against its captions "
                + "(see docs/easel-tiny.md).",
        subcommands = {DatasetSynthCommand.class, DatasetCheckCommand.class, DatasetEvalCommand.class})
public final class DatasetCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
