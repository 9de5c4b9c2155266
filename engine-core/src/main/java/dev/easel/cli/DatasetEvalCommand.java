package dev.easel.cli;

import ai.djl.ndarray.NDManager;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.Easel;
import dev.easel.core.format.ModelFormats;
import dev.easel.core.sd.hooks.SdNetworkHooks;
import dev.easel.core.sd.model.EaselTiny;
import dev.easel.core.sd.model.SdModel;
import dev.easel.core.sd.sampling.PngWriter;
import dev.easel.core.synth.AdherenceEval;
import dev.easel.core.synth.ShapeKind;
import dev.easel.core.synth.ShapeScene;
import dev.easel.core.synth.SyntheticDataset;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code easel dataset eval}: the prompt-adherence rate of a model on the shapes grammar. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Samples prompts of the shapes dataset's grammar and says, from pixel statistics, how many "
                + "samples show the asked shape colour and shape (the adherence rate).",
            "  easel dataset eval --count 48 --grid grid.png",
            "  easel dataset eval --prompt \"a red cross on a blue background\" --count 8 --lora cross.safetensors"})
public final class DatasetEvalCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--model", paramLabel = "M", description = "Checkpoint (default: Easel Tiny).")
    Path model;

    @Option(names = "--lora", paramLabel = "FILE:STRENGTH", description = "Adapter to apply (repeatable).")
    List<String> loras = new ArrayList<>();

    @Option(names = "--prompt", paramLabel = "P",
            description = "One prompt for every sample (default: prompts drawn from the dataset's grammar).")
    String prompt;

    @Option(names = "--count", defaultValue = "48", paramLabel = "N", description = "Samples (default: 48).")
    int count;

    @Option(names = "--prompt-seed", defaultValue = "1000", paramLabel = "S",
            description = "Seed of the drawn prompts (default: 1000; training sets use small seeds).")
    long promptSeed;

    @Option(names = "--shapes", split = ",", paramLabel = "LIST",
            description = "Shapes of the drawn prompts (default: circle,square,triangle).")
    List<String> shapes;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
            description = "Seed of the first sample; sample i uses seed + i (default: 0).")
    long seed;

    @Option(names = "--steps", defaultValue = "20", paramLabel = "N", description = "Sampling steps (default: 20).")
    int steps;

    @Option(names = "--cfg", defaultValue = "5", paramLabel = "S", description = "Guidance scale (default: 5).")
    float cfg;

    @Option(names = "--sampler", defaultValue = "dpmpp_2m_karras", paramLabel = "NAME",
            description = "Sampler (default: dpmpp_2m_karras).")
    String sampler;

    @Option(names = "--size", defaultValue = "64", paramLabel = "PX", description = "Image side (default: 64).")
    int size;

    @Option(names = "--grid", paramLabel = "OUT.png", description = "Write the samples as one grid image.")
    Path grid;

    @Option(names = "--out-dir", paramLabel = "DIR", description = "Write each sample and its prompt (.txt).")
    Path outDir;

    @Option(names = "--reconstruct", description = "Measure the VAE instead of sampling: render each prompt's picture, "
            + "encode and decode it, and check that (the ceiling of the sampled rates).")
    boolean reconstruct;

    @Option(names = {"-q", "--quiet"}, description = "Print only the rates.")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        if (count < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--count must be at least 1");
        }
        List<String> prompts;
        List<ShapeScene> scenes = List.of();
        if (reconstruct && prompt != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--reconstruct renders the drawn prompts' "
                    + "scenes; it does not take --prompt");
        }
        if (prompt != null) {
            prompts = Collections.nCopies(count, prompt);
        } else {
            SyntheticDataset base = SyntheticDataset.base();
            List<ShapeKind> kinds = shapes == null || shapes.isEmpty() ? base.shapes() : parse(shapes, ShapeKind::ofWord);
            SyntheticDataset dataset = new SyntheticDataset(kinds, base.colors(), base.textures());
            prompts = AdherenceEval.prompts(dataset, promptSeed, count);
            scenes = dataset.scenes(promptSeed, count);
        }
        PrintWriter o = spec.commandLine().getOut();
        long t0 = System.nanoTime();
        try (Easel easel = engine.start(false);
             NDManager m = easel.runtime().newManager()) {
            Path file = model != null ? model : EaselTiny.require(engine.home());
            SdModel sd;
            try (TensorSource source = ModelFormats.open(easel.registry(), file)) {
                sd = SdModel.open(source, file, null, m);
            }
            try (sd) {
                SdNetworkHooks hooks = new SdNetworkHooks(sd, m);
                SampleCommand.applyAdapters(easel, hooks, loras, spec);
                if (outDir != null) {
                    Files.createDirectories(outDir);
                }
                int[] index = {0};
                java.util.function.Consumer<AdherenceEval.Sample> progress = s -> {
                            int i = index[0]++;
                            if (!quiet) {
                                o.printf(Locale.ROOT, "%3d %s: %s -> %s%n", i, s.prompt(), s.verdict().seen(),
                                        s.verdict().adheres() ? "follows" : "differs");
                                o.flush();
                            }
                            if (outDir != null) {
                                try {
                                    PngWriter.write(s.image(), Map.of("parameters", s.prompt()),
                                            outDir.resolve(String.format("%04d.png", i)));
                                    Files.writeString(outDir.resolve(String.format("%04d.txt", i)), s.prompt());
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            }
                        };
                AdherenceEval.Result r = reconstruct ? AdherenceEval.reconstruct(sd, scenes, size, m, progress)
                        : AdherenceEval.run(sd, hooks, prompts, new AdherenceEval.Settings(sampler, steps, cfg, size,
                                seed), m, progress);
                if (grid != null) {
                    PngWriter.write(r.grid(Math.min(8, prompts.size())), Map.of(), grid);
                }
                if (reconstruct) {
                    o.printf(Locale.ROOT, "%s (encoded and decoded, %.0f s)%n", r.tally(), (System.nanoTime() - t0) / 1e9);
                } else {
                    o.printf(Locale.ROOT, "%s (%s, %d steps, cfg %s, %.0f s)%n", r.tally(), sampler, steps, cfg,
                            (System.nanoTime() - t0) / 1e9);
                }
                o.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private <T> List<T> parse(List<String> words, Function<String, T> of) {
        List<T> out = new ArrayList<>();
        for (String w : words) {
            T v = of.apply(w.strip());
            if (v == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "unknown word '" + w + "'");
            }
            out.add(v);
        }
        return out;
    }
}
