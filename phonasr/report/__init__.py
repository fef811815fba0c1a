"""Turning a finished run's ``exp/`` (results.tsv, details files, the JSA run's TensorBoard logs) into RESULTS.md.

``results``: the table as it stands (last row wins); ``layout``: which system goes in which row (data);
``paper``: the paper's own figures; ``significance``: paired bootstrap over utterances; ``curves``: JSA training
scalars; ``plots``: PNGs; ``markdown``: the document; ``build``: all of it into one folder, atomically.
"""
