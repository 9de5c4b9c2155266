/**
 * The SD networks bound to the training core: {@link dev.easel.core.sd.train.SdDiffusionModel} and its loader,
 * registered in {@code META-INF/services/dev.easel.core.train.model.DiffusionModelLoader}.
 */
package dev.easel.core.sd.train;
