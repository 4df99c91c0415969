"""The span-pooled MiniLM classifier behind the encoder groundability prior (imports torch: load lazily).

One pass per post serves all its entities: each entity is scored from the post's [CLS] vector,
the mean of its own word pieces and a small type embedding.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import BertModel

TYPES = ("PER", "LOC", "ORG", "OTHER")


def extended_mask(mask: torch.Tensor) -> torch.Tensor:
    """Additive attention mask (batch, 1, 1, length) as BertLayer expects it."""
    return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min


class SpanGroundabilityModel(nn.Module):
    def __init__(self, bert: BertModel, type_dim: int = 32, hidden: int = 256):
        super().__init__()
        self.bert = bert
        config = bert.config
        self.type_emb = nn.Embedding(len(TYPES), type_dim)
        self.head = nn.Sequential(
            nn.Dropout(0.1), nn.Linear(2 * config.hidden_size + type_dim, hidden), nn.GELU(), nn.Linear(hidden, 1)
        )

    def lower(self, ids: torch.Tensor, mask: torch.Tensor, layers: int) -> torch.Tensor:
        """Hidden states after the embeddings and the first `layers` layers."""
        hidden: torch.Tensor = self.bert.embeddings(input_ids=ids)
        for layer in self.bert.encoder.layer[:layers]:
            hidden = layer(hidden, attention_mask=extended_mask(mask))
        return hidden

    def upper(
        self,
        hidden: torch.Tensor,
        mask: torch.Tensor,
        ent_post: torch.Tensor,
        span_weights: torch.Tensor,
        ent_type: torch.Tensor,
        start: int,
    ) -> torch.Tensor:
        """Entity logits from hidden states after layer `start`; span_weights (entities, length) average each span."""
        for layer in self.bert.encoder.layer[start:]:
            hidden = layer(hidden, attention_mask=extended_mask(mask))
        span = torch.einsum("es,esh->eh", span_weights, hidden[ent_post])
        features = torch.cat([hidden[ent_post, 0], span, self.type_emb(ent_type)], -1)
        logits: torch.Tensor = self.head(features).squeeze(-1)
        return logits

    def forward(
        self,
        ids: torch.Tensor,
        mask: torch.Tensor,
        ent_post: torch.Tensor,
        span_weights: torch.Tensor,
        ent_type: torch.Tensor,
    ) -> torch.Tensor:
        return self.upper(self.lower(ids, mask, 0), mask, ent_post, span_weights, ent_type, 0)
