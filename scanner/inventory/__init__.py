"""The inventory stage: the directory's folders and members as values (``model``) and the
collection that builds them from API answers (``collect``), the only place that turns API
answers into values.
"""
