package dev.easel.core.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;
import org.ejml.data.DMatrixRMaj;

/**
 * One adapter module's delta as the factor tools need it: low-rank factors and a scale ({@code ΔW = scale·up·down})
 * when the module is a plain LoRA, or the full delta matrix (Tucker LoCon), both over the flattened weight
 * ({@code out × in·kh·kw}), with the kernel to restore conv shapes.
 *
 * @param name   the module name in its file
 * @param up     out×r, or {@code null} for a full delta
 * @param down   r×(in·kh·kw), or {@code null}
 * @param scale  the factor scale (alpha/r, PEFT lora_alpha/r, ...)
 * @param full   the scaled out×(in·kh·kw) delta, or {@code null} for factors
 * @param in     input channels
 * @param kernel {@code {kh, kw}} for a conv module, {@code null} for a Linear one
 */
public record ModuleDelta(String name, DMatrixRMaj up, DMatrixRMaj down, double scale, DMatrixRMaj full, int in,
                          int[] kernel) {
    /** Output rows. */
    public int out() {
        return full != null ? full.numRows : up.numRows;
    }

    /** Columns of the flattened weight. */
    public int cols() {
        return full != null ? full.numCols : down.numCols;
    }

    /** The rank of the factors (the full delta's column count for a full delta). */
    public int rank() {
        return up != null ? up.numCols : Math.min(full.numRows, full.numCols);
    }

    /** The SVD of the scaled delta, from the factors when there are factors. */
    public LowRank.Svd svd() {
        if (full != null) {
            return LowRank.full(full);
        }
        DMatrixRMaj scaled = up.copy();
        org.ejml.dense.row.CommonOps_DDRM.scale(scale, scaled);
        return LowRank.ofProduct(scaled, down);
    }

    /** The scaled delta as a full matrix. */
    public DMatrixRMaj dense() {
        if (full != null) {
            return full;
        }
        DMatrixRMaj m = new DMatrixRMaj(up.numRows, down.numCols);
        org.ejml.dense.row.CommonOps_DDRM.mult(scale, up, down, m);
        return m;
    }

    /**
     * The delta of a loaded module, or an {@link AdapterException} naming the module when it is not of the LoRA
     * form (LoHa, LoKr, OFT ... whose deltas resize and merge do not take; bake them instead).
     */
    public static ModuleDelta of(AdapterFile file, LoadedModule module, NDManager manager) {
        Map<String, NDArray> t = file.read(module, manager);
        String name = module.name();
        String id = module.typeId();
        if (!id.equals("lora/kohya") && !id.equals("lycoris/locon") && !id.equals("lora/peft")) {
            throw new AdapterException(file.location() + ": module '" + name + "' is " + id
                    + "; only LoRA/LoCon modules (lora/kohya, lycoris/locon, lora/peft) can be resized, merged or "
                    + "converted (bake the others into a checkpoint)");
        }
        if (t.containsKey("bias")) {
            throw new AdapterException(file.location() + ": module '" + name + "' carries a bias delta, which a LoRA "
                    + "file cannot express after resizing or merging");
        }
        if (t.containsKey("lora_mid.weight")) {
            NDArray d = module.type().delta(module.module(), t, null, 1.0, module.parameters(), manager);
            long[] s = d.getShape().getShape();
            return new ModuleDelta(name, null, null, 1.0, matrix(d, (int) s[0]), (int) s[1],
                    new int[] {(int) s[2], (int) s[3]});
        }
        NDArray down;
        NDArray up;
        double scale;
        if (id.equals("lora/peft")) {
            String[] pair = peftPair(t);
            down = t.get(pair[0]);
            up = t.get(pair[1]);
            long r = down.getShape().get(0);
            double alpha = module.parameters().getDouble("lora_alpha");
            if (alpha == 0) {
                alpha = r;
            }
            scale = module.parameters().getBoolean("use_rslora") ? alpha / Math.sqrt(r) : alpha / r;
        } else {
            down = t.get("lora_down.weight");
            up = t.get("lora_up.weight");
            long r = down.getShape().get(0);
            if (t.containsKey("scale")) {
                scale = t.get("scale").toFloatArray()[0];
            } else {
                scale = t.containsKey("alpha") ? t.get("alpha").toFloatArray()[0] / r : 1.0;
            }
        }
        long[] ds = down.getShape().getShape();
        int r = (int) ds[0];
        if (up.getShape().size() / up.getShape().get(0) != r) {
            throw new AdapterException(file.location() + ": module '" + name + "': up " + up.getShape()
                    + " and down " + down.getShape() + " disagree on the rank");
        }
        int[] kernel = ds.length == 4 ? new int[] {(int) ds[2], (int) ds[3]} : null;
        return new ModuleDelta(name, matrix(up, (int) up.getShape().get(0)), matrix(down, r), scale, null, (int) ds[1],
                kernel);
    }

    private static String[] peftPair(Map<String, NDArray> t) {
        for (String[] p : new String[][] {{"lora_A.weight", "lora_B.weight"},
            {"lora_A.default.weight", "lora_B.default.weight"}, {"lora.down.weight", "lora.up.weight"},
            {"lora_linear_layer.down.weight", "lora_linear_layer.up.weight"}, {"down.weight", "up.weight"}}) {
            if (t.containsKey(p[0]) && t.containsKey(p[1])) {
                return p;
            }
        }
        throw new IllegalStateException("no down/up pair in " + t.keySet());
    }

    static DMatrixRMaj matrix(NDArray a, int rows) {
        float[] v = a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
        DMatrixRMaj m = new DMatrixRMaj(rows, v.length / rows);
        for (int i = 0; i < v.length; i++) {
            m.data[i] = v[i];
        }
        return m;
    }
}
