package dev.easel.cli;

import dev.easel.api.ParameterSpec;
import dev.easel.core.Easel;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginRecord;
import dev.easel.core.plugin.PluginState;
import java.io.PrintWriter;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code easel plugins list|info}. */
@Command(name = "plugins", mixinStandardHelpOptions = true,
        description = "Lists the installed plugins and describes one.",
        subcommands = {PluginsCommand.ListCommand.class, PluginsCommand.InfoCommand.class})
public final class PluginsCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code easel plugins list [--json]}. */
    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists every plugin service: kind, id, version, bundle, state (active, draining, refused).")
    static final class ListCommand implements Runnable {
        @Mixin
        EngineOptions engine = new EngineOptions();

        @Option(names = "--json", description = "Print a JSON array instead of a table.")
        boolean json;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            PrintWriter out = spec.commandLine().getOut();
            try (Easel easel = engine.start(false)) {
                List<PluginRecord> records = easel.registry().list();
                if (json) {
                    out.println(PluginRows.write(PluginRows.toJson(records)));
                } else {
                    out.printf("%-16s %-28s %-9s %-9s %s%n", "KIND", "ID", "VERSION", "STATE", "BUNDLE");
                    for (PluginRecord r : records) {
                        out.printf("%-16s %-28s %-9s %-9s %s %s%n", r.kindLabel(), r.id(), r.version(),
                                r.state().label(), r.origin().bundle(), r.origin().bundleVersion());
                        if (!r.reason().isEmpty()) {
                            out.printf("%16s   %s%n", "", r.reason());
                        }
                    }
                    long refused = records.stream().filter(r -> r.state() == PluginState.REFUSED).count();
                    out.printf("%d service(s), %d refused%n", records.size() - refused, refused);
                }
                out.flush();
            }
        }
    }

    /** {@code easel plugins info ID}. */
    @Command(name = "info", mixinStandardHelpOptions = true,
            description = "Describes one plugin service and its parameters.")
    static final class InfoCommand implements Runnable {
        @Mixin
        EngineOptions engine = new EngineOptions();

        @Parameters(paramLabel = "ID", description = "An id (lora/kohya), a family (weighted_sum), or id@range.")
        String id;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            PrintWriter out = spec.commandLine().getOut();
            try (Easel easel = engine.start(false)) {
                List<PluginRecord> matches = new java.util.ArrayList<>();
                StringBuilder misses = new StringBuilder();
                for (PluginKind kind : PluginKind.values()) {
                    try {
                        matches.add(easel.registry().select(kind, id));
                    } catch (java.util.NoSuchElementException e) {
                        if (e.getMessage().contains("ambiguous")) {
                            misses.append(e.getMessage());
                        }
                    }
                }
                if (matches.isEmpty()) {
                    throw new IllegalArgumentException(misses.length() > 0 ? misses.toString()
                            : "no plugin '" + id + "' is installed; installed: " + easel.registry().list().stream()
                            .filter(r -> r.state() == PluginState.ACTIVE).map(PluginRecord::id).distinct()
                            .collect(Collectors.joining(", ")));
                }
                for (PluginRecord r : matches) {
                    if (json) {
                        out.println(PluginRows.write(PluginRows.detail(r)));
                        continue;
                    }
                    out.printf("%s %s (%s)%n  %s%n  bundle: %s %s (%s)%n", r.id(), r.version(), r.kindLabel(),
                            r.description(), r.origin().bundle(), r.origin().bundleVersion(), r.origin().location());
                    List<ParameterSpec> params = r.plugin().parameters().specs();
                    out.println(params.isEmpty() ? "  parameters: none" : "  parameters:");
                    for (ParameterSpec p : params) {
                        String range = p.min() == null && p.max() == null ? "" : " in [" + fmt(p.min()) + ", "
                                + fmt(p.max()) + "]";
                        out.printf("    %-14s %s%s%s, default %s%s%n      %s%n", p.name(),
                                p.type().name().toLowerCase(java.util.Locale.ROOT), range,
                                p.choices().isEmpty() ? "" : " " + p.choices(),
                                p.defaultValue() == null ? "(required)" : p.defaultValue(),
                                p.perBlock() ? ", per block" : "", p.description());
                    }
                }
                out.flush();
            }
        }

        private static String fmt(Double d) {
            if (d == null) {
                return "";
            }
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString(d.longValue()) : d.toString();
        }
    }
}
