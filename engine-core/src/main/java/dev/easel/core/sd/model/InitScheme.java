package dev.easel.core.sd.model;

import dev.easel.core.sd.nn.ParamKind;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * How a random model's parameters are drawn.
 * <ul>
 *   <li>{@link #PARITY}: the parity model's scheme ({@link RandomWeights}): order-one activations everywhere, so
 *       that every code path of a random model produces visible, comparable numbers.</li>
 *   <li>{@link #SCRATCH}: the initialisation ldm trains SD from: PyTorch's default for linear and conv weights
 *       (std 1/√(3·fan_in)), zero biases, unit norms, CLIP's embedding std (0.02 tokens, 0.01 positions), and zero
 *       for the modules ldm wraps in {@code zero_module} (each UNet res block's last conv, each transformer's
 *       {@code proj_out}, the UNet's output conv) so every residual branch starts as the identity. What Easel Tiny
 *       was trained from.</li>
 * </ul>
 */
public enum InitScheme {
    PARITY, SCRATCH;

    private static final Pattern ZERO_MODULE = Pattern.compile("model\\.diffusion_model\\.(?:.*\\.out_layers\\.3|.*"
            + "\\.proj_out|out\\.2)\\.(?:weight|bias)");

    /** The scheme named {@code parity} or {@code scratch}. */
    public static InitScheme of(String name) {
        for (InitScheme s : values()) {
            if (s.name().equalsIgnoreCase(name.strip())) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown init scheme '" + name + "' (parity or scratch)");
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Mean and standard deviation of the normal a parameter is drawn from. */
    double[] distribution(String key, long[] shape, ParamKind kind) {
        if (this == PARITY) {
            throw new IllegalStateException("the parity scheme is RandomWeights' own");
        }
        if (ZERO_MODULE.matcher(key).matches()) {
            return new double[] {0, 0};
        }
        return switch (kind) {
            case WEIGHT -> {
                long fanIn = 1;
                for (int i = 1; i < shape.length; i++) {
                    fanIn *= shape[i];
                }
                yield new double[] {0, 1 / Math.sqrt(3.0 * fanIn)};
            }
            case EMBEDDING -> new double[] {0, key.contains("position_embedding") ? 0.01 : 0.02};
            case NORM_SCALE -> new double[] {1, 0};
            default -> new double[] {0, 0};
        };
    }
}
