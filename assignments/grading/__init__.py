"""Sandboxed, tamper-proof autograding for the course (used by nbgrader through nbgrader_config.py).

A submission's own code runs in one process, inside a bubblewrap sandbox (:mod:`grading.sandbox`,
:mod:`grading.student`); the test cells run in another, clean process outside it (:mod:`grading.verdict`), and
call the student's functions across a pipe that carries plain data only (:mod:`grading.wire`). The nbgrader
preprocessor that ties them together is :class:`grading.preprocessor.SandboxedExecute`.
"""
