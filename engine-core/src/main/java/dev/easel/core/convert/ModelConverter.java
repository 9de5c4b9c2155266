package dev.easel.core.convert;

import dev.easel.api.format.ModelFormat;
import dev.easel.api.format.ModelFormatException;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.format.ModelFormats;
import dev.easel.core.format.diffusers.DiffusersFolder;
import dev.easel.core.format.diffusers.DiffusersWriter;
import dev.easel.core.model.SdDetector;
import dev.easel.core.model.SdFamily;
import dev.easel.core.model.SdLayout;
import dev.easel.core.model.SdModelInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code easel convert}: any readable model to a safetensors file (or another writable file format), or to a
 * diffusers folder, optionally changing the float type, the EMA weights and the key layout. Plans the whole
 * output from the input's header first ({@link TensorRecipe}s), then streams it.
 */
public final class ModelConverter {
    /** What to do with {@code model_ema.*} weights. */
    public enum EmaMode {
        /** Copy them as they are (ldm output) or drop them (diffusers output, which has no place for them). */
        KEEP,
        /** Drop them. */
        PRUNE,
        /** Replace each UNet weight by its EMA copy, then drop the EMA keys. */
        USE
    }

    /**
     * Options of a conversion.
     *
     * @param dtype  float type for floating tensors, or null to keep each tensor's
     * @param ema    EMA handling
     * @param layout target key layout, or null for the natural one (the input's; ldm when a diffusers folder goes
     *               to a single file; diffusers for a folder)
     * @param vae    a VAE to bake in ({@link VaeBakedSource}: a standalone ldm VAE or a checkpoint), or null to keep
     *               the model's
     */
    public record Options(DType dtype, EmaMode ema, SdLayout layout, Path vae) {
        public Options {
            if (dtype != null && !FloatConversion.supports(dtype, DType.F32)) {
                throw new IllegalArgumentException("--dtype must be fp32, fp16 or bf16 (or fp64), not " + dtype);
            }
        }

        /** Options that keep the model's VAE. */
        public Options(DType dtype, EmaMode ema, SdLayout layout) {
            this(dtype, ema, layout, null);
        }
    }

    /**
     * What was written.
     *
     * @param output  the file or folder
     * @param input   what detection found in the input
     * @param tensors tensors written
     * @param dropped input tensors not written (EMA, schedule buffers, keys the target layout cannot hold)
     */
    public record Result(Path output, SdModelInfo input, int tensors, List<String> dropped) {
    }

    private ModelConverter() {
    }

    /** Converts {@code in} to {@code out}; warnings (dropped keys) go to {@code warn}. */
    public static Result convert(List<ModelFormat> formats, Path in, Path out, Options options, Consumer<String> warn)
            throws IOException {
        if (Files.exists(out) && Files.exists(in) && Files.isSameFile(in, out)) {
            throw new ModelFormatException(out, "is the input; write the conversion somewhere else");
        }
        boolean folder = isFolderTarget(out);
        if (options.vae() != null && Files.exists(out) && Files.exists(options.vae())
                && Files.isSameFile(options.vae(), out)) {
            throw new ModelFormatException(out, "is the VAE to bake in; write the conversion somewhere else");
        }
        try (TensorSource model = ModelFormats.open(formats, in);
             TensorSource vae = options.vae() == null ? null : ModelFormats.open(formats, options.vae())) {
            TensorSource source = vae == null ? model : VaeBakedSource.of(model, vae);
            SdModelInfo info = SdDetector.detect(source.tensors(), source.metadata());
            SdLayout target = options.layout() != null ? options.layout()
                    : folder ? SdLayout.DIFFUSERS
                    : info.layout() == SdLayout.DIFFUSERS && Files.isDirectory(in) ? SdLayout.LDM : info.layout();
            if (folder && target != SdLayout.DIFFUSERS) {
                throw new ModelFormatException(out, "a folder output is a diffusers folder; use --layout diffusers or "
                        + "name a .safetensors file");
            }
            LdmDiffusersMapping.Conversion plan = plan(source, info, options, target);
            if (plan.recipes().isEmpty()) {
                throw new ModelFormatException(in, "has no tensors to convert");
            }
            if (!plan.dropped().isEmpty()) {
                warn.accept("dropped " + plan.dropped().size() + " tensor(s) the output has no place for, e.g. "
                        + plan.dropped().subList(0, Math.min(3, plan.dropped().size())));
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            if (source.formatId().equals("format/safetensors")) {
                metadata.putAll(source.metadata());
            }
            if (folder) {
                DiffusersWriter.write(source, plan.recipes(), info, out,
                        model instanceof DiffusersFolder d ? d.location() : null, warn);
            } else if (isSafetensors(out)) {
                RecipeWriter.writeSafetensors(source, plan.recipes(), metadata, out);
            } else {
                ModelFormat format = ModelFormats.forWriting(formats, out);
                try (TensorSink sink = format.create(out, RecipeWriter.plan(plan.recipes(), metadata))) {
                    RecipeWriter.writeTo(source, plan.recipes(), sink);
                }
            }
            return new Result(out, info, plan.recipes().size(), plan.dropped());
        }
    }

    /** Plans the output tensors: EMA handling, layout mapping, then the float type. */
    public static LdmDiffusersMapping.Conversion plan(TensorSource source, SdModelInfo info, Options options,
            SdLayout target) throws ModelFormatException {
        List<TensorInfo> tensors = new ArrayList<>(source.tensors());
        List<String> dropped = new ArrayList<>();
        Map<String, String> emaSource = new HashMap<>();
        if (options.ema() != EmaMode.KEEP || target == SdLayout.DIFFUSERS) {
            Map<String, TensorInfo> byName = new HashMap<>();
            for (TensorInfo t : tensors) {
                byName.put(t.name(), t);
            }
            if (options.ema() == EmaMode.USE) {
                if (!info.ema()) {
                    throw new ModelFormatException(source.location(), "has no EMA weights (model_ema.*) to use");
                }
                for (TensorInfo t : tensors) {
                    if (t.name().startsWith(LdmDiffusersMapping.UNET)) {
                        // ldm's LitEma names each buffer by the parameter name under model. with the dots removed.
                        String ema = "model_ema." + t.name().substring("model.".length()).replace(".", "");
                        TensorInfo e = byName.get(ema);
                        if (e != null && e.sameShape(t)) {
                            emaSource.put(t.name(), ema);
                        }
                    }
                }
            }
            List<TensorInfo> kept = new ArrayList<>();
            for (TensorInfo t : tensors) {
                if (t.name().startsWith("model_ema.")) {
                    dropped.add(t.name());
                } else {
                    kept.add(t);
                }
            }
            tensors = kept;
        }
        LdmDiffusersMapping.Conversion mapped;
        if (target == info.layout() || target == SdLayout.UNKNOWN || info.layout() == SdLayout.UNKNOWN) {
            if (target != info.layout() && target != SdLayout.UNKNOWN && info.layout() == SdLayout.UNKNOWN) {
                throw new ModelFormatException(source.location(), "is not a Stable Diffusion checkpoint Easel recognises;"
                        + " cannot change its layout to " + target.id());
            }
            mapped = new LdmDiffusersMapping.Conversion(tensors.stream().map(t -> TensorRecipe.renamed(t, t.name()))
                    .toList(), List.of());
        } else {
            if (info.family() == SdFamily.UNKNOWN || info.family() == SdFamily.SDXL) {
                throw new ModelFormatException(source.location(), "is " + info.family().id()
                        + "; ldm <-> diffusers conversion covers sd1 and sd2");
            }
            mapped = target == SdLayout.DIFFUSERS ? LdmDiffusersMapping.toDiffusers(tensors, info.family())
                    : LdmDiffusersMapping.toLdm(tensors, info.family());
        }
        dropped.addAll(mapped.dropped());
        List<TensorRecipe> recipes = new ArrayList<>(mapped.recipes().size());
        for (TensorRecipe r : mapped.recipes()) {
            TensorRecipe x = r;
            if (!emaSource.isEmpty() && x.parts().size() == 1 && emaSource.containsKey(x.parts().get(0).source())) {
                TensorRecipe.Part p = x.parts().get(0);
                x = new TensorRecipe(x.out(), x.sourceType(), List.of(new TensorRecipe.Part(
                        emaSource.get(p.source()), p.offset(), p.length())), x.transpose());
            }
            if (options.dtype() != null && RecipeWriter.castable(x.out().dtype())) {
                x = x.withDType(options.dtype());
            }
            recipes.add(x);
        }
        return new LdmDiffusersMapping.Conversion(recipes, dropped);
    }

    /** A target without a file extension (or an existing folder) is a diffusers folder. */
    public static boolean isFolderTarget(Path out) {
        if (Files.isDirectory(out)) {
            return true;
        }
        String name = out.getFileName() == null ? "" : out.getFileName().toString();
        return !name.contains(".");
    }

    private static boolean isSafetensors(Path out) {
        String name = out.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".safetensors") || name.endsWith(".sft");
    }
}
