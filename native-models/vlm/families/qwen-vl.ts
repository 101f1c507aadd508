/**
 * Qwen2-VL, Qwen2.5-VL and Qwen3-VL (UI-TARS 1.0 is a Qwen2-VL fine-tune, UI-TARS-1.5 a
 * Qwen2.5-VL one): @huggingface/transformers loads three graphs for them — the vision encoder
 * (patches → image features), embed_tokens (ids → embeddings) and decoder_model_merged (the
 * language model with its key/value cache and M-RoPE position ids of shape [3, batch, seq]).
 */
import type { GraphSpec, ModelConfig, PreprocessorConfig, VlmFamily } from '../family.ts';

function layers(config: ModelConfig): number {
  // Qwen2-VL keeps the text model's sizes at the top level; Qwen2.5-VL and Qwen3-VL (as the library reads them) in text_config.
  return config.text_config?.num_hidden_layers ?? config.num_hidden_layers ?? 0;
}

export const qwenVl: VlmFamily = {
  label: 'Qwen2-VL / Qwen2.5-VL / Qwen3-VL',
  modelTypes: ['qwen2_vl', 'qwen2_5_vl', 'qwen3_vl'],

  graphs(config: ModelConfig): GraphSpec[] {
    // The library names the grid input `grid_thw` for Qwen2-VL and `image_grid_thw` from Qwen2.5-VL on.
    const grid = config.model_type === 'qwen2_vl' ? 'grid_thw' : 'image_grid_thw';
    const cache = Array.from({ length: layers(config) }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();
    return [
      { name: 'vision_encoder', required: ['pixel_values', grid], optional: [] },
      { name: 'embed_tokens', required: ['input_ids'], optional: [] },
      {
        name: 'decoder_model_merged',
        required: ['inputs_embeds', 'attention_mask', 'position_ids', ...cache],
        optional: ['num_logits_to_keep', 'use_cache_branch'],
      },
    ];
  },

  processor(modelType: string) {
    return modelType === 'qwen2_vl' ? 'Qwen2VLProcessor' : modelType === 'qwen2_5_vl' ? 'Qwen2_5_VLProcessor' : 'Qwen3VLProcessor';
  },

  groundingConvention(modelType: string) {
    // Qwen2.5-VL answers in pixels of its resized image; Qwen2-VL (UI-TARS 1.0) and Qwen3-VL on a 0..1000 grid.
    return modelType === 'qwen2_5_vl' ? 'qwen25vl' : 'uitars';
  },

  resize(pre: PreprocessorConfig) {
    const minPixels = pre.min_pixels ?? pre.size?.shortest_edge;
    const maxPixels = pre.max_pixels ?? pre.size?.longest_edge;
    return {
      factor: (pre.patch_size ?? 14) * (pre.merge_size ?? 2),
      ...(minPixels !== undefined ? { minPixels } : {}),
      ...(maxPixels !== undefined ? { maxPixels } : {}),
    };
  },

  messages({ system, text, imageFirst }) {
    const image = { type: 'image' as const };
    const words = { type: 'text' as const, text };
    return [
      ...(system !== undefined ? [{ role: 'system' as const, content: system }] : []),
      { role: 'user' as const, content: imageFirst ? [image, words] : [words, image] },
    ];
  },
};
