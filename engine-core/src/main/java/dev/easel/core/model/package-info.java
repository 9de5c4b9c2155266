/**
 * What a Stable Diffusion checkpoint is, read from tensor names and shapes only: family, key layout, components,
 * EMA, inpainting and a prediction-type hint.
 */
package dev.easel.core.model;
