package dev.easel.core.convert;

import dev.easel.api.format.ModelFormatException;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An ldm checkpoint with its VAE taken from another file: what A1111 users call "baking a VAE in". Every
 * {@code first_stage_model.*} tensor of the checkpoint is read from the VAE file instead, which may be a standalone
 * ldm VAE (the layout of {@code vae-ft-mse-840000-ema-pruned}: {@code encoder.*}, {@code decoder.*},
 * {@code quant_conv.*}, {@code post_quant_conv.*}) or another ldm checkpoint. Keys of the VAE file that the
 * checkpoint has no place for ({@code loss.*}, {@code model_ema.*}) are ignored, as A1111 ignores them; a VAE key the
 * file lacks, or one of another shape, is an error naming the file, so a VAE of another architecture is never baked in
 * half.
 */
public final class VaeBakedSource implements TensorSource {
    /** The ldm prefix of the VAE's keys in a whole checkpoint. */
    public static final String PREFIX = "first_stage_model.";

    private final TensorSource model;
    private final TensorSource vae;
    private final Map<String, String> vaeName = new LinkedHashMap<>();
    private final List<TensorInfo> tensors = new ArrayList<>();

    private VaeBakedSource(TensorSource model, TensorSource vae) throws ModelFormatException {
        this.model = model;
        this.vae = vae;
        boolean prefixed = vae.tensors().stream().anyMatch(t -> t.name().startsWith(PREFIX));
        int replaced = 0;
        for (TensorInfo t : model.tensors()) {
            if (!t.name().startsWith(PREFIX)) {
                tensors.add(t);
                continue;
            }
            String name = prefixed ? t.name() : t.name().substring(PREFIX.length());
            TensorInfo v = vae.info(name).orElseThrow(() -> new ModelFormatException(vae.location(),
                    "has no VAE tensor '" + name + "' for the model's " + t.name() + (prefixed ? ""
                            : " (a VAE in diffusers layout must be converted to ldm first)")));
            if (!v.sameShape(t)) {
                throw new ModelFormatException(vae.location(), "VAE tensor '" + name + "' has shape "
                        + Arrays.toString(v.shape()) + " where the model's has "
                        + Arrays.toString(t.shape()) + ": a VAE of another architecture");
            }
            vaeName.put(t.name(), name);
            tensors.add(new TensorInfo(t.name(), v.dtype(), v.shape()));
            replaced++;
        }
        if (replaced == 0) {
            throw new ModelFormatException(model.location(), "has no VAE (" + PREFIX + "*) to replace; baking a VAE "
                    + "needs an ldm-layout checkpoint");
        }
    }

    /** {@code model} with every VAE tensor read from {@code vae}; closing the result closes neither. */
    public static VaeBakedSource of(TensorSource model, TensorSource vae) throws ModelFormatException {
        return new VaeBakedSource(model, vae);
    }

    /** How many tensors come from the VAE file. */
    public int replaced() {
        return vaeName.size();
    }

    @Override
    public Path location() {
        return model.location();
    }

    @Override
    public String formatId() {
        return model.formatId();
    }

    @Override
    public Map<String, String> metadata() {
        return model.metadata();
    }

    @Override
    public List<TensorInfo> tensors() {
        return List.copyOf(tensors);
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        if (vaeName.containsKey(name)) {
            return vae.info(vaeName.get(name)).map(v -> new TensorInfo(name, v.dtype(), v.shape()));
        }
        return model.info(name);
    }

    @Override
    public ByteBuffer read(String name) throws IOException {
        String v = vaeName.get(name);
        return v != null ? vae.read(v) : model.read(name);
    }

    @Override
    public void close() {
        // the caller owns both sources
    }
}
