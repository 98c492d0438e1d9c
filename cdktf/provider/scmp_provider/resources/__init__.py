"""The provider's resources and data sources: attribute mapping only; the engine converges."""
