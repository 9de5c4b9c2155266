package dev.easel.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.Easel;
import dev.easel.core.format.ModelFormats;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import dev.easel.core.sd.embedding.EmbeddingFile;
import dev.easel.core.sd.hooks.AdapterApplier;
import dev.easel.core.sd.hooks.SdNetworkHooks;
import dev.easel.core.sd.model.ModelConfigs;
import dev.easel.core.sd.model.ModelLoadException;
import dev.easel.core.sd.model.SdModel;
import dev.easel.core.sd.model.SdModelConfig;
import dev.easel.core.sd.model.TensorReads;
import dev.easel.core.sd.sampling.GenerationRequest;
import dev.easel.core.sd.sampling.Images;
import dev.easel.core.sd.sampling.Pipeline;
import dev.easel.core.sd.sampling.PngWriter;
import dev.easel.core.sd.sampling.SamplerKind;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code easel sample}: txt2img / img2img with a checkpoint. */
@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generates an image (PNG with A1111-style parameters) from a checkpoint.",
            "  easel sample --model tiny.safetensors --prompt \"a red circle\" --steps 4 --sampler ddim --out a.png"})
public final class SampleCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--model", paramLabel = "M",
            description = "Checkpoint (any installed format; default: Easel Tiny, models/easel-tiny.safetensors).")
    Path model;

    @Option(names = "--prompt", required = true, paramLabel = "P", description = "Prompt (A1111 emphasis syntax).")
    String prompt;

    @Option(names = "--negative", paramLabel = "N", defaultValue = "", description = "Negative prompt.")
    String negative;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "20", description = "Sampling steps (default: 20).")
    int steps;

    @Option(names = "--cfg", paramLabel = "S", defaultValue = "7", description = "Guidance scale (default: 7).")
    float cfg;

    @Option(names = "--sampler", paramLabel = "NAME", defaultValue = "euler_a",
            description = "ddim, euler, euler_a, dpmpp_2m_karras (default: euler_a).")
    String sampler;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed (default: 0).")
    long seed;

    @Option(names = "--width", paramLabel = "W", description = "Width (default: 512 for SD1, 768 for SD2-v, "
            + "8 latent cells per level otherwise).")
    Integer width;

    @Option(names = "--height", paramLabel = "H", description = "Height (default: as width).")
    Integer height;

    @Option(names = "--clip-skip", paramLabel = "N", defaultValue = "0",
            description = "A1111 clip skip (default: the family's: 1 for SD1, 2 for SD2).")
    int clipSkip;

    @Option(names = "--init-image", paramLabel = "IMG", description = "img2img: the starting image.")
    Path initImage;

    @Option(names = "--strength", paramLabel = "S", defaultValue = "0.75",
            description = "img2img denoising strength (default: 0.75).")
    float strength;

    @Option(names = "--lora", paramLabel = "FILE:STRENGTH",
            description = "Adapter file and strength (repeatable); needs an installed adapter type plugin.")
    List<String> loras = new ArrayList<>();

    @Option(names = "--embedding", paramLabel = "FILE", description = "Textual-inversion embedding (repeatable): "
            + "A1111 .pt, kohya emb_params or diffusers learned_embeds, torch or safetensors; prompts call it by its "
            + "file name (diffusers files also by their token).")
    List<Path> embeddings = new ArrayList<>();

    @Option(names = "--noise", paramLabel = "FILE", description = "Initial latent noise: tensor 'noise' of a safetensors file.")
    Path noise;

    @Option(names = "--latent-out", paramLabel = "FILE", description = "Also write the final latent (tensor 'latent').")
    Path latentOut;

    @Option(names = "--config", paramLabel = "FILE", description = "ldm config of the model (default: NAME.yaml/"
            + "NAME.json beside it, else recognised from its keys).")
    Path config;

    @Option(names = "--out", required = true, paramLabel = "OUT.png", description = "The PNG to write.")
    Path out;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        SamplerKind kind;
        try {
            kind = SamplerKind.parse(sampler);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (!out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--out must name a .png file");
        }
        long t0 = System.nanoTime();
        if (model == null) {
            try {
                model = dev.easel.core.sd.model.EaselTiny.require(engine.home());
            } catch (ModelLoadException e) {
                throw new UncheckedIOException(e);
            }
        }
        try (Easel easel = engine.start(false);
             NDManager m = easel.runtime().newManager()) {
            SdModelConfig cfgModel;
            SdModel loaded;
            // the checkpoint is closed (unmapped) once its tensors are copied into the networks
            try (TensorSource source = ModelFormats.open(easel.registry(), model)) {
                cfgModel = ModelConfigs.resolve(model, source, config);
                loaded = SdModel.load(source, cfgModel, m);
            }
            try (SdModel sd = loaded) {
                SdNetworkHooks hooks = new SdNetworkHooks(sd, m);
                List<String> tiHashes = addEmbeddings(hooks);
                applyAdapters(easel, hooks);
                Pipeline pipeline = new Pipeline(sd, hooks);
                int f = pipeline.sizeMultiple();
                int defaultSize = cfgModel.family().equals("sd1") && cfgModel.unet().modelChannels() == 320 ? 512
                        : cfgModel.family().equals("sd2") && cfgModel.unet().modelChannels() == 320
                        ? (cfgModel.schedule().prediction().equals("v") ? 768 : 512) : 8 * f;
                int w = width != null ? width : height != null ? height : defaultSize;
                int h = height != null ? height : w;
                GenerationRequest req = new GenerationRequest(prompt, negative, kind, steps, cfg, seed, w, h, clipSkip,
                        strength);
                NDArray noiseArray = noise == null ? null : readTensor(easel, noise, "noise", m);
                NDArray init = null;
                if (initImage != null) {
                    BufferedImage img = ImageIO.read(initImage.toFile());
                    if (img == null) {
                        throw new ModelLoadException(initImage, "is not an image ImageIO can read (PNG, JPEG, BMP)");
                    }
                    init = Images.fromImage(m, img, w, h);
                }
                int total = initImage == null ? steps : Math.max(1, (int) (Math.min(strength, 0.999f) * steps));
                Pipeline.Output result;
                try (ProgressBar bar = quiet ? null : new ProgressBarBuilder().setTaskName("sample")
                        .setInitialMax(total).setUnit(" steps", 1).setStyle(ProgressBarStyle.ASCII)
                        .setUpdateIntervalMillis(500).build()) {
                    result = pipeline.generate(m, req, noiseArray, init, (i, t, x, x0) -> {
                        if (bar != null) {
                            bar.step();
                        }
                    });
                }
                if (latentOut != null) {
                    writeLatent(result.latent(), latentOut);
                }
                PngWriter.write(Images.toImage(result.image()), Map.of("parameters",
                        infotext(req, kind, hooks.clipSkip(), w, h, tiHashes)), out);
                PrintWriter o = spec.commandLine().getOut();
                o.printf(Locale.ROOT, "wrote %s (%dx%d, %s, %d steps, cfg %s, seed %d) in %.1f s%n", out, w, h,
                        kind.cliName(), steps, fmt(cfg), seed, (System.nanoTime() - t0) / 1e9);
                o.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(model + ": " + e.getMessage(), e);
        }
    }

    /** Loads the embeddings; returns A1111's {@code TI hashes} entries ({@code name: hash}) of those the prompts use. */
    private List<String> addEmbeddings(SdNetworkHooks hooks) throws IOException {
        List<String> hashes = new ArrayList<>();
        for (Path file : embeddings) {
            EmbeddingFile e = EmbeddingFile.read(file);
            try {
                hooks.addEmbedding(e);
            } catch (IllegalArgumentException ex) {
                // the message names the embedding file; the command's handler would prefix the model's
                throw new ModelLoadException(null, ex.getMessage());
            }
            String text = (prompt + "\n" + negative).toLowerCase(Locale.ROOT);
            if (e.words().stream().noneMatch(w -> text.contains(w.toLowerCase(Locale.ROOT)))) {
                PrintWriter err = spec.commandLine().getErr();
                err.println("warning: " + file + ": neither prompt uses the embedding's word"
                        + (e.words().size() > 1 ? "s " : " ") + String.join(" / ", e.words()));
                err.flush();
            } else {
                hashes.add(e.name() + ": " + shortHash(file));
            }
        }
        return hashes;
    }

    /** A1111's short hash of a file: the first 12 hex digits of its SHA-256. */
    private static String shortHash(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void applyAdapters(Easel easel, SdNetworkHooks hooks) throws IOException {
        applyAdapters(easel, hooks, loras, spec);
    }

    /** Installs {@code FILE[:STRENGTH]} adapters on a model's hooks (shared with the commands that sample). */
    static void applyAdapters(Easel easel, SdNetworkHooks hooks, List<String> loras,
                              CommandLine.Model.CommandSpec spec) throws IOException {
        if (loras == null || loras.isEmpty()) {
            return;
        }
        AdapterApplier applier = new AdapterApplier(hooks, easel.registry().services(AdapterType.class),
                ModelFormats.installed(easel.registry()));
        for (String spec0 : loras) {
            int colon = spec0.lastIndexOf(':');
            Path file = Path.of(colon > 0 ? spec0.substring(0, colon) : spec0);
            float s;
            try {
                s = colon > 0 ? Float.parseFloat(spec0.substring(colon + 1)) : 1f;
            } catch (NumberFormatException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--lora " + spec0
                        + ": the strength after ':' must be a number");
            }
            applier.add(file, s);
        }
        applier.install();
    }

    private static NDArray readTensor(Easel easel, Path file, String name, NDManager m) throws IOException {
        try (TensorSource src = ModelFormats.open(easel.registry(), file)) {
            TensorInfo info = src.info(name).orElseThrow(() -> new UncheckedIOException(new ModelLoadException(file,
                    "has no tensor '" + name + "' (tensors: " + src.tensors().stream().map(TensorInfo::name)
                    .limit(5).toList() + ")")));
            if (!TensorReads.readable(info.dtype())) {
                throw new ModelLoadException(file, "tensor '" + name + "' is " + info.dtype() + ", not a float type");
            }
            return TensorReads.toFloat32(m, src.read(name), info.dtype(), new Shape(info.shape()));
        }
    }

    private static void writeLatent(NDArray latent, Path file) throws IOException {
        TensorInfo info = new TensorInfo("latent", DType.F32, latent.getShape().getShape());
        try (SafetensorsWriter w = SafetensorsWriter.create(file, new WritePlan(List.of(info), Map.of()))) {
            w.write("latent", latent.toByteBuffer(true).order(ByteOrder.LITTLE_ENDIAN));
            w.commit();
        }
    }

    private String infotext(GenerationRequest r, SamplerKind kind, int skip, int w, int h, List<String> tiHashes) {
        StringBuilder sb = new StringBuilder(r.prompt());
        if (!r.negative().isEmpty()) {
            sb.append("\nNegative prompt: ").append(r.negative());
        }
        String name = model.getFileName().toString();
        int dot = name.lastIndexOf('.');
        sb.append("\nSteps: ").append(r.steps()).append(", Sampler: ").append(kind.a1111Name())
                .append(", CFG scale: ").append(fmt(r.cfg())).append(", Seed: ").append(r.seed())
                .append(", Size: ").append(w).append('x').append(h)
                .append(", Model: ").append(dot > 0 ? name.substring(0, dot) : name);
        if (initImage != null) {
            sb.append(", Denoising strength: ").append(fmt(r.strength()));
        }
        if (skip > 1) {
            sb.append(", Clip skip: ").append(skip);
        }
        if (!loras.isEmpty()) {
            sb.append(", Lora: ").append(String.join(" ", loras));
        }
        if (!tiHashes.isEmpty()) {
            sb.append(", TI hashes: \"").append(String.join(", ", tiHashes)).append('"');
        }
        return sb.toString();
    }

    private static String fmt(float v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Float.toString(v);
    }

}
