"""Model selection and hyper-parameter search: measure backbones, methods and settings on the user's
own data within a budget (``tuneforge select``, ``tuneforge tune``)."""
