package dev.easel.core.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.core.train.model.DiffusionModel;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The images of a job: scanned, bucketed, their latents cached, and ordered into batches per epoch. The order of
 * an epoch and every augmentation choice derive from (seed, epoch, position), so any step can be reproduced
 * without replaying the ones before it.
 */
public final class TrainingData {
    private final List<DatasetSpec> datasets;
    private final List<ImageEntry> entries;
    private final boolean includeReg;
    private final DiffusionModel model;
    private final LatentCache cache;

    private TrainingData(List<DatasetSpec> datasets, List<ImageEntry> entries, boolean includeReg,
                         DiffusionModel model, LatentCache cache) {
        this.datasets = datasets;
        this.entries = entries;
        this.includeReg = includeReg;
        this.model = model;
        this.cache = cache;
    }

    /** Progress of the latent caching phase. */
    public interface CacheProgress {
        void update(int done, int total);
    }

    /**
     * Scans every subset, assigns buckets and fills the latent cache.
     *
     * @param includeReg whether regularisation subsets take part (the method asks for class or reg images)
     */
    public static TrainingData prepare(List<DatasetSpec> datasets, DiffusionModel model, LatentCache cache,
                                       boolean includeReg, int vaeBatchSize, NDManager manager,
                                       Consumer<String> warnings, CacheProgress progress) throws IOException {
        List<ImageEntry> entries = new ArrayList<>();
        int scale = model.latentScale();
        for (int d = 0; d < datasets.size(); d++) {
            DatasetSpec spec = datasets.get(d);
            Buckets buckets = spec.buckets();
            for (Subset subset : spec.subsets()) {
                if (subset.isReg() && !includeReg) {
                    warnings.accept(subset.imageDir() + ": regularisation images skipped; the method does not use"
                            + " them");
                    continue;
                }
                int missingCaptions = 0;
                for (Path image : images(subset.imageDir())) {
                    String caption = caption(image, subset.captionExtension());
                    if (caption == null) {
                        missingCaptions++;
                        caption = subset.classTokens();
                    }
                    int[] size = ImageFiles.size(image);
                    Bucket bucket;
                    try {
                        bucket = buckets.select(size[0], size[1]);
                    } catch (IllegalArgumentException e) {
                        throw new IOException(image + ": " + e.getMessage(), e);
                    }
                    if (bucket.width() % scale != 0 || bucket.height() % scale != 0) {
                        throw new IOException(image + ": bucket " + bucket.width() + "x" + bucket.height()
                                + " is not a multiple of " + scale);
                    }
                    String hash = subset.randomCrop() ? null : LatentCache.hashFile(image);
                    entries.add(new ImageEntry(entries.size(), image, caption, d, subset, bucket, hash));
                }
                if (missingCaptions > 0 && subset.classTokens().isEmpty()) {
                    warnings.accept(subset.imageDir() + ": " + missingCaptions + " image(s) have no "
                            + subset.captionExtension() + " or .txt caption and train with an empty caption");
                }
            }
        }
        if (entries.stream().noneMatch(e -> !e.subset().isReg())) {
            throw new IOException("no training images found in " + datasets.stream().flatMap(d -> d.subsets()
                    .stream()).map(s -> s.imageDir().toString()).toList());
        }
        TrainingData data = new TrainingData(List.copyOf(datasets), List.copyOf(entries), includeReg, model, cache);
        data.fillCache(vaeBatchSize, manager, progress);
        return data;
    }

    /** One cache entry to fill: an image, flipped or not. */
    private record Variant(ImageEntry entry, boolean flip) {
        Bucket bucket() {
            return entry.bucket();
        }
    }

    private void fillCache(int vaeBatchSize, NDManager manager, CacheProgress progress) throws IOException {
        List<Variant> todo = new ArrayList<>();
        for (ImageEntry e : entries) {
            if (e.contentHash() == null) {
                continue;
            }
            for (boolean flip : e.subset().flipAug() ? new boolean[] {false, true} : new boolean[] {false}) {
                if (!cache.has(e, flip)) {
                    todo.add(new Variant(e, flip));
                }
            }
        }
        // Same-sized images are encoded together.
        todo.sort(java.util.Comparator.<Variant>comparingInt(v -> v.bucket().width())
                .thenComparingInt(v -> v.bucket().height()));
        int done = 0;
        progress.update(0, todo.size());
        int i = 0;
        while (i < todo.size()) {
            Bucket b = todo.get(i).bucket();
            int j = i;
            while (j < todo.size() && j - i < vaeBatchSize && todo.get(j).bucket().width() == b.width()
                    && todo.get(j).bucket().height() == b.height()) {
                j++;
            }
            try (NDManager scope = manager.newSubManager()) {
                float[] pixels = new float[(j - i) * 3 * b.width() * b.height()];
                int plane = 3 * b.width() * b.height();
                for (int k = i; k < j; k++) {
                    ImageEntry e = todo.get(k).entry();
                    boolean flip = todo.get(k).flip();
                    float[] px = ImageTransform.pixels(ImageFiles.readRgb(e.path()), e.bucket(), e.bucket().cropLeft(),
                            e.bucket().cropTop(), flip);
                    System.arraycopy(px, 0, pixels, (k - i) * plane, plane);
                }
                NDArray input = scope.create(pixels, new Shape(j - i, 3, b.height(), b.width()));
                NDArray latents = model.encodeImages(input);
                for (int k = i; k < j; k++) {
                    cache.store(todo.get(k).entry(), todo.get(k).flip(), latents.get(k - i));
                }
            }
            done += j - i;
            progress.update(done, todo.size());
            i = j;
        }
    }

    /** Every image, in scan order. */
    public List<ImageEntry> entries() {
        return entries;
    }

    /** The latent cache in use. */
    public LatentCache cache() {
        return cache;
    }

    /**
     * The batches of one epoch, in training order: per dataset and bucket, images repeated {@code num_repeats}
     * times (regularisation images cycled to as many as the training images, as kohya does), shuffled, cut into
     * batches, and the batches shuffled.
     */
    public List<Batch> epoch(long seed, int epoch) {
        List<Batch> batches = new ArrayList<>();
        for (int d = 0; d < datasets.size(); d++) {
            final int ds = d;
            List<Integer> train = new ArrayList<>();
            List<Integer> reg = new ArrayList<>();
            for (ImageEntry e : entries) {
                if (e.dataset() != ds) {
                    continue;
                }
                for (int r = 0; r < e.subset().numRepeats(); r++) {
                    (e.subset().isReg() ? reg : train).add(e.index());
                }
            }
            List<Integer> all = new ArrayList<>(train);
            if (includeReg && !reg.isEmpty()) {
                for (int k = 0; k < train.size(); k++) {
                    all.add(reg.get(k % reg.size()));
                }
            }
            Map<String, List<Integer>> byBucket = new LinkedHashMap<>();
            for (int idx : all) {
                Bucket b = entries.get(idx).bucket();
                byBucket.computeIfAbsent(b.width() + "x" + b.height(), k -> new ArrayList<>()).add(idx);
            }
            int batchSize = datasets.get(d).batchSize();
            List<String> keys = new ArrayList<>(byBucket.keySet());
            Collections.sort(keys);
            for (int k = 0; k < keys.size(); k++) {
                List<Integer> list = byBucket.get(keys.get(k));
                Collections.shuffle(list, new Random(Seeds.mix(seed, epoch, d, k, 1)));
                for (int s = 0; s < list.size(); s += batchSize) {
                    batches.add(new Batch(list.subList(s, Math.min(list.size(), s + batchSize))));
                }
            }
        }
        Collections.shuffle(batches, new Random(Seeds.mix(seed, epoch, 2)));
        return batches;
    }

    /**
     * Loads one batch: cached latents (or a fresh random crop encoded now), flips and captions chosen from
     * (seed, epoch, position).
     */
    public LoadedBatch load(Batch batch, long seed, int epoch, int position, NDManager manager) throws IOException {
        List<NDArray> latents = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        List<Boolean> reg = new ArrayList<>();
        for (int slot = 0; slot < batch.entries().size(); slot++) {
            ImageEntry e = entries.get(batch.entries().get(slot));
            Random rng = new Random(Seeds.mix(seed, epoch, position, slot, 3));
            boolean flip = e.subset().flipAug() && rng.nextBoolean();
            if (e.contentHash() != null) {
                latents.add(cache.load(e, flip, manager));
            } else {
                Bucket b = e.bucket();
                int left = rng.nextInt(b.resizedWidth() - b.width() + 1);
                int top = rng.nextInt(b.resizedHeight() - b.height() + 1);
                BufferedImage img = ImageFiles.readRgb(e.path());
                NDArray px = manager.create(ImageTransform.pixels(img, b, left, top, flip),
                        new Shape(1, 3, b.height(), b.width()));
                latents.add(model.encodeImages(px).get(0));
            }
            captions.add(Captions.process(e.caption(), e.subset().captions(), epoch, rng));
            reg.add(e.subset().isReg());
        }
        NDArray stacked = latents.size() == 1 ? latents.get(0).expandDims(0) : NDArrays.stack(new NDList(latents));
        return new LoadedBatch(stacked, captions, reg);
    }

    private static List<Path> images(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.isRegularFile(p) && ImageFiles.isImage(p)).sorted().toList();
        }
    }

    private static String caption(Path image, String extension) throws IOException {
        String name = image.getFileName().toString();
        String base = name.substring(0, name.lastIndexOf('.'));
        List<String> exts = new ArrayList<>(List.of(extension));
        for (String other : List.of(".caption", ".txt")) {
            if (!other.equals(extension.toLowerCase(Locale.ROOT))) {
                exts.add(other);
            }
        }
        for (String ext : exts) {
            Path f = image.resolveSibling(base + ext);
            if (Files.isRegularFile(f)) {
                String text = Files.readString(f, StandardCharsets.UTF_8);
                int nl = text.indexOf('\n');
                return (nl >= 0 ? text.substring(0, nl) : text).strip();
            }
        }
        return null;
    }
}
