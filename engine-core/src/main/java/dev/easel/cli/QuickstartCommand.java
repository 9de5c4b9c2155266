package dev.easel.cli;

import picocli.CommandLine.Command;

/** {@code easel quickstart}: the main job end to end on generated files. */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Runs Easel's main job end to end on small generated files and reports what it did.")
public final class QuickstartCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("quickstart is being built");
    }
}
