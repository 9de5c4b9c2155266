package dev.easel.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.Easel;
import dev.easel.core.adapter.AdapterFile;
import dev.easel.core.adapter.AdapterKeyMap;
import dev.easel.core.adapter.AdapterReport;
import dev.easel.core.format.ModelFormats;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code easel lora inspect}: the type of every module, ranks, alphas, targets and metadata. */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Shows the adapter type detected for every module, ranks, alphas, targeted networks and metadata.",
            "  easel lora inspect my_lora.safetensors",
            "  easel lora inspect my_lora.safetensors --base sd15.safetensors --json"})
public final class LoraInspectCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Parameters(paramLabel = "FILE", description = "The adapter file.")
    Path file;

    @Option(names = "--base", paramLabel = "MODEL",
            description = "Also resolve every module onto this checkpoint's keys and list those that match none.")
    Path base;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Option(names = "--modules", description = "List every module (the JSON always does).")
    boolean listModules;

    @Option(names = "--type", paramLabel = "ID",
            description = "Adapter type to choose where several recognise a module (lycoris/locon vs lora/kohya).")
    String preferredType;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        try (Easel easel = engine.start(false);
             AdapterFile adapter = LoraCommand.openAdapter(easel, file, preferredType)) {
            AdapterKeyMap keyMap = null;
            if (base != null) {
                LoraCommand.requireFile(base);
                try (TensorSource model = ModelFormats.open(easel.registry(), base)) {
                    keyMap = AdapterKeyMap.forModel(model.tensors().stream().map(TensorInfo::name).toList());
                }
            }
            if (adapter.modules().isEmpty()) {
                String first = adapter.unrecognized().keySet().stream().findFirst().orElse("(none)");
                throw new IllegalArgumentException(file + ": not a LoRA-family adapter: no installed adapter type "
                        + "recognises any module (first: '" + first + "')");
            }
            AdapterReport report = AdapterReport.of(adapter, keyMap);
            if (json) {
                out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(report));
            } else {
                print(report, out);
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    private void print(AdapterReport r, PrintWriter out) {
        out.println(r.file());
        out.printf(Locale.ROOT, "  modules     %d%s%n", r.modules().size(),
                r.unrecognized().isEmpty() ? "" : " (+" + r.unrecognized().size() + " unrecognised)");
        out.println("  types       " + counts(r.types()));
        out.println("  networks    " + counts(r.components()));
        out.println("  ranks       " + counts(r.ranks()));
        out.println("  alphas      " + counts(r.alphas()));
        Map<String, String> md = r.metadata();
        for (String k : List.of("ss_network_module", "ss_network_dim", "ss_network_alpha", "ss_network_args",
                "ss_base_model_version", "modelspec.architecture", "modelspec.title")) {
            if (md.containsKey(k)) {
                out.printf("  %-22s %s%n", k, md.get(k));
            }
        }
        out.printf("  metadata    %d keys%n", md.size());
        if (listModules) {
            for (AdapterReport.Module m : r.modules()) {
                out.printf(Locale.ROOT, "  %-70s %-13s r=%-4d alpha=%-6s %s%s%n", m.name(), m.type(), m.rank(),
                        m.alpha() == null ? "none" : m.alpha().toString(), m.variant(),
                        m.target() == null ? "" : " -> " + m.target());
            }
        }
        for (var u : r.unrecognized().entrySet()) {
            out.println("  unrecognised: " + u.getKey() + " " + u.getValue());
        }
        if (base != null) {
            out.printf("  base        %s: %d of %d modules match%n", base, r.modules().size() - r.unmatched().size(),
                    r.modules().size());
            for (String u : r.unmatched()) {
                out.println("  unmatched: " + u);
            }
        }
    }

    private static String counts(Map<String, Integer> m) {
        StringBuilder b = new StringBuilder();
        m.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append(" (").append(v).append(')'));
        return b.toString();
    }
}
