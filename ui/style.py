"""The stylesheet: large type and targets, high contrast."""

STYLE = """
QWidget { font-family: "Noto Sans CJK SC", "Noto Sans CJK", sans-serif; font-size: 24px; color: #1d2330; }
QMainWindow, #root { background: #f3f6fb; }
#header { background: #0b5cad; }
#header QLabel { color: white; font-size: 26px; font-weight: bold; }
#header QPushButton { background: transparent; color: white; border: 2px solid white; border-radius: 10px;
                      padding: 6px 18px; min-height: 48px; font-size: 22px; }
#title { font-size: 38px; font-weight: bold; color: #0b3c74; padding: 16px; }
#subtitle, #resultPrintStatus { font-size: 26px; color: #3b4a63; }
#hint { font-size: 22px; color: #5a6a85; }
#big { font-size: 56px; font-weight: bold; color: #0b5cad; }
#stepLabel { font-size: 18px; padding: 8px 4px; border-radius: 8px; background: #dde5f1; color: #55657f; }
#stepLabel[state="current"] { background: #0b5cad; color: white; font-weight: bold; }
#stepLabel[state="done"] { background: #9cc3ea; color: #0b3c74; }
QPushButton { border-radius: 14px; padding: 12px 28px; font-size: 26px; border: none; }
QPushButton[role="primary"] { background: #0b5cad; color: white; }
QPushButton[role="primary"]:pressed { background: #094a8b; }
QPushButton[role="secondary"] { background: white; color: #0b5cad; border: 2px solid #0b5cad; }
QPushButton[role="secondary"]:checked { background: #0b5cad; color: white; }
#expressForm QLineEdit { min-height: 40px; font-size: 22px; }
#expressForm #fieldError { font-size: 18px; }
#confirmTop, #confirmTop > QWidget > QWidget { background: transparent; }
QPushButton[role="danger"] { background: #c0392b; color: white; }
QPushButton[role="item"] { background: white; color: #1d2330; border: 2px solid #c9d6ea; text-align: left;
                           padding: 20px 28px; font-size: 28px; }
QPushButton:disabled { background: #c7cfdb; color: #7d8799; }
QLineEdit { min-height: 56px; font-size: 26px; padding: 4px 12px; border: 2px solid #c9d6ea; border-radius: 10px;
            background: white; }
QLineEdit[readOnly="true"] { background: #eef2f8; color: #3b4a63; }
QLineEdit[error="true"] { border-color: #c0392b; }
#fieldError { color: #c0392b; font-size: 20px; }
#card { background: white; border-radius: 16px; border: 1px solid #d5deec; }
#outcome_approve { color: #1e8449; font-size: 48px; font-weight: bold; }
#outcome_reject { color: #c0392b; font-size: 48px; font-weight: bold; }
#outcome_manual { color: #b9770e; font-size: 48px; font-weight: bold; }
#warning { background: #fff4e0; border: 2px solid #e0a43a; border-radius: 12px; padding: 12px; font-size: 22px; }
#idleBanner { background: #b9770e; color: white; font-size: 26px; padding: 12px; }
"""
